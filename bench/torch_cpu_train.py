"""PyTorch peer for `inkstone bench train` on the CPU: the same LeNet-5 and digit CNN, Adam
lr 1e-3, random data, warm-up steps excluded, 2 threads (the CI machine's cores).
Usage: python3 torch_cpu_train.py MODEL BATCH STEPS"""
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)
class LeNet5(nn.Module):
    def __init__(s):
        super().__init__(); s.c1=nn.Conv2d(1,6,5,padding=2); s.c2=nn.Conv2d(6,16,5); s.f1=nn.Linear(400,120); s.f2=nn.Linear(120,84); s.f3=nn.Linear(84,10)
    def forward(s,x):
        x=F.max_pool2d(F.relu(s.c1(x)),2); x=F.max_pool2d(F.relu(s.c2(x)),2); x=x.flatten(1)
        return s.f3(F.relu(s.f2(F.relu(s.f1(x)))))
class DigitCNN(nn.Module):
    def __init__(s):
        super().__init__()
        def stage(i,o): return [nn.Conv2d(i,o,3,padding=1,bias=False),nn.BatchNorm2d(o),nn.ReLU(),nn.Conv2d(o,o,3,padding=1,bias=False),nn.BatchNorm2d(o),nn.ReLU(),nn.MaxPool2d(2),nn.Dropout(0.25)]
        s.f=nn.Sequential(*stage(1,32),*stage(32,64),nn.Flatten(),nn.Linear(3136,256),nn.ReLU(),nn.Dropout(0.5),nn.Linear(256,10))
    def forward(s,x): return s.f(x)
name, bs, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
m = {"lenet5": LeNet5, "digitcnn": DigitCNN}[name]()
if True:
    opt=torch.optim.Adam(m.parameters(),1e-3); x=torch.randn(bs,1,28,28); y=torch.randint(0,10,(bs,))
    for i in range(5+steps):
        if i==5: t0=time.time()
        loss=F.cross_entropy(m(x),y); opt.zero_grad(); loss.backward(); opt.step()
    print(f"{steps*bs/(time.time()-t0):.1f}")
