// Draws digits on inkstone's page with a mouse in headless Chromium and prints, as one JSON
// line per drawing, what the page shows as the top candidate. Usage: node draw.mjs URL SHOT.png
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 520 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  const pad = await page.locator("#pad").boundingBox();

  // A stroke through points given as fractions of the pad, with intermediate mouse moves.
  async function stroke(points) {
    const at = ([x, y]) => [pad.x + x * pad.width, pad.y + y * pad.height];
    await page.mouse.move(...at(points[0]));
    await page.mouse.down();
    for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 8 });
    await page.mouse.up();
  }
  async function answer() {
    await page.waitForFunction(() => {
      const d = document.getElementById("pad").dataset;
      return d.sent && d.sent === d.shown;
    });
    return page.$$eval("#candidates li", (items) => items.map((li) => li.dataset.char));
  }
  async function report(name, expected) {
    const candidates = await answer();
    console.log(JSON.stringify({ drawing: name, expected, top1: candidates[0], candidates }));
  }

  await stroke([[0.5, 0.15], [0.51, 0.5], [0.52, 0.85]]);
  await report("one", "1");

  await page.click("#clear");
  await stroke([[0.25, 0.2], [0.75, 0.2], [0.55, 0.5], [0.42, 0.85]]);
  await report("seven", "7");
  // A stray stroke, then Undo: back to the seven.
  await stroke([[0.2, 0.6], [0.8, 0.62]]);
  await answer();
  await page.click("#undo");
  await report("seven after undo", "7");

  await page.click("#clear");
  const ring = Array.from({ length: 25 }, (_, i) => {
    const t = (i / 24) * 2 * Math.PI;
    return [0.5 + 0.22 * Math.sin(t), 0.5 - 0.33 * Math.cos(t)];
  });
  await stroke(ring);
  await report("zero", "0");
  await page.screenshot({ path: screenshot });
  if (problems.length) {
    console.error(`page errors: ${problems.join(" | ")}`);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
