"""Independent check of `inkstone export` with the official `onnx` checker and onnxruntime
(optional: `pip install onnx onnxruntime numpy pillow`).

For a bundle and images: exports the bundle, checks the graph (full_check), reads the recipe and
charset from metadata_props, feeds onnxruntime the exact inputs `inkstone predict --save-inputs`
wrote, and compares its top-5 with `inkstone predict --json` on the same images.
Usage: python3 bench/onnx_check.py INKSTONE_BIN BUNDLE IMAGE..."""
import json, subprocess, sys, tempfile, os
import numpy as np, onnx, onnxruntime as ort
from PIL import Image

binary, bundle, images = sys.argv[1], sys.argv[2], sys.argv[3:]
work = tempfile.mkdtemp()
model_path = os.path.join(work, "model.onnx")
subprocess.run([binary, "export", bundle, "-o", model_path], check=True, stdout=subprocess.DEVNULL)
model = onnx.load(model_path)
onnx.checker.check_model(model, full_check=True)
meta = {p.key: p.value for p in model.metadata_props}
recipe = json.loads(meta["inkstone.recipe"])
charset = json.loads(meta["inkstone.charset"])
print(f"onnx checker: ok (opset {model.opset_import[0].version}, inputs "
      f"{[i.name for i in model.graph.input]}, outputs {[o.name for o in model.graph.output]})")

out = subprocess.run([binary, "predict", bundle, *images, "--json", "--save-inputs", work],
                     check=True, capture_output=True, text=True).stdout.splitlines()
session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
worst = 0.0
for image, line in zip(images, out):
    ours = json.loads(line)["top"]
    stem = os.path.splitext(os.path.basename(image))[0]
    x = np.asarray(Image.open(os.path.join(work, f"{stem}.input.png")), dtype=np.float32) / 255.0
    x = ((x - recipe["mean"]) / recipe["std"])[None, None]
    logits = session.run(["logits"], {"input": x})[0][0]
    probs = np.exp(logits - logits.max()); probs /= probs.sum()
    order = np.argsort(-probs)[: len(ours)]
    assert [int(i) for i in order] == [c["label"] for c in ours], (image, order, ours)
    worst = max(worst, max(abs(float(probs[c["label"]]) - c["prob"]) for c in ours))
    print(f"{image}: onnxruntime top-1 {charset['symbols'][order[0]]} = inkstone top-1 {ours[0]['char']}")
print(f"{len(images)} images: same top-{len(ours)} order, max |prob difference| {worst:.2e}")
