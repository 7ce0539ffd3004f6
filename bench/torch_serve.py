"""PyTorch peer for `inkstone serve` and `inkstone bench predict` on the CPU: the same LeNet-5
and ResNet-18 (1-channel; torch_models.py) behind a minimal
threaded http.server that does what a typical tutorial service does per request: decode the PNG
(Pillow), grayscale, resize to the model input, normalise, forward, softmax, top-5, JSON.
Its preprocessing is lighter than inkstone's recipe (no Otsu threshold, crop or centring).
Usage:
  python3 torch_serve.py serve MODEL PORT          MODEL: lenet5 | resnet18-64
  python3 torch_serve.py latency MODEL IMAGE ITERS
"""
import io, json, sys, time, statistics
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
import torch, torch.nn.functional as F
from PIL import Image

from torch_models import LeNet5, ResNet18

torch.set_num_threads(2)

MODELS = {"lenet5": (lambda: LeNet5(), 28), "resnet18-64": (lambda: ResNet18(3755), 64)}


def load(name):
    make, side = MODELS[name]
    model = make().eval()
    return model, side


def predict(model, side, data):
    image = Image.open(io.BytesIO(data)).convert("L").resize((side, side), Image.BILINEAR)
    x = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).float().div(255)
    x = ((1 - x) - 0.1307) / 0.3081  # dark ink on paper -> bright ink, MNIST normalisation
    with torch.inference_mode():
        probs = F.softmax(model(x.view(1, 1, side, side)), dim=1)[0]
    top = torch.topk(probs, 5)
    return [{"label": int(i), "prob": float(p)} for p, i in zip(top.values, top.indices)]


def serve(name, port):
    model, side = load(name)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        disable_nagle_algorithm = True  # else 40 ms delayed-ACK stalls per keep-alive request

        def do_POST(self):
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps({"predictions": predict(model, side, data)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.request_queue_size = 1024
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def latency(name, path, iters):
    model, side = load(name)
    data = open(path, "rb").read()
    times = []
    for _ in range(iters + 10):
        t0 = time.perf_counter()
        predict(model, side, data)
        times.append(time.perf_counter() - t0)
    print(f"{statistics.median(times[10:]) * 1e6:.1f}")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        latency(sys.argv[2], sys.argv[3], int(sys.argv[4]))
