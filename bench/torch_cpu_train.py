"""PyTorch peer for `inkstone bench train` and the network part of `inkstone bench predict` on
the CPU: the same models (torch_models.py), 2 threads (the CI machine's cores).
Usage:
  python3 torch_cpu_train.py train MODEL CLASSES SIDE BATCH STEPS   -> img/s (Adam lr 1e-3,
      cross-entropy, one batch of noise, 5 warm-up steps excluded)
  python3 torch_cpu_train.py infer MODEL CLASSES SIDE ITERS         -> median us per image
      (batch 1, eval mode, inference_mode, 10 warm-up runs excluded)"""
import statistics, sys, time, torch, torch.nn.functional as F
from torch_models import build

torch.set_num_threads(2)
mode, name, classes, side, a, b = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6]), int(sys.argv[6]) if len(sys.argv) > 6 else 0
m = build(name, classes, side)
if mode == "train":
    batch, steps = a, b
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    x = torch.randn(batch, 1, side, side); y = torch.randint(0, classes, (batch,))
    for i in range(5 + steps):
        if i == 5: t0 = time.perf_counter()
        loss = F.cross_entropy(m(x), y); opt.zero_grad(); loss.backward(); opt.step()
    print(f"{steps * batch / (time.perf_counter() - t0):.1f}")
else:
    iters = a
    m.eval(); x = torch.randn(1, 1, side, side); times = []
    with torch.inference_mode():
        for _ in range(iters + 10):
            t0 = time.perf_counter(); m(x); times.append(time.perf_counter() - t0)
    print(f"{statistics.median(times[10:]) * 1e6:.1f}")
