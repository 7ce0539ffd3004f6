// Watches inkstone's live training view while a run trains. Prints a JSON line once the page
// is up (the test then starts training), then one with what the page showed first, what it
// showed once more epochs arrived, and the points drawn per chart.
// Usage: node runs.mjs URL SHOT.png
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  const counts = () => page.evaluate(() => ({
    runs: Number(document.body.dataset.runs),
    epochs: Number(document.body.dataset.epochs),
    steps: Number(document.body.dataset.steps),
  }));
  const first = await counts();
  // Tells the test to start training now that the page is up.
  console.log(JSON.stringify({ watching: first }));
  // No reload: the page itself must pick up what training writes.
  await page.waitForFunction(
    (before) => Number(document.body.dataset.epochs) > before,
    first.epochs,
    { timeout: 120000, polling: 200 },
  );
  // And the run's end (the test's run has 3 epochs).
  await page.waitForFunction(() => Number(document.body.dataset.epochs) >= 3,
    null, { timeout: 120000, polling: 200 });
  const last = await counts();
  const points = await page.$$eval("canvas", (cs) =>
    Object.fromEntries(cs.map((c) => [c.id, Number(c.dataset.points || 0)])));
  const rows = await page.$$eval("#results tr", (trs) => trs.length - 1);
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ first, last, points, rows }));
  if (problems.length) {
    console.error(`page errors: ${problems.join(" | ")}`);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
