"""The built-in inkstone models in PyTorch (1-channel input), layer for layer as
`crates/model/src/builtin.rs` builds them: the peers of every CPU benchmark in this folder.
ResNet-18 below 112 px: 3x3 stride-1 stem, no max-pool (as ../shared/bench/torch_reference.py)."""
import torch.nn as nn, torch.nn.functional as F


class LeNet5(nn.Module):
    def __init__(s, classes=10):
        super().__init__(); s.c1=nn.Conv2d(1,6,5,padding=2); s.c2=nn.Conv2d(6,16,5); s.f1=nn.Linear(400,120); s.f2=nn.Linear(120,84); s.f3=nn.Linear(84,classes)
    def forward(s,x):
        x=F.max_pool2d(F.relu(s.c1(x)),2); x=F.max_pool2d(F.relu(s.c2(x)),2); x=x.flatten(1)
        return s.f3(F.relu(s.f2(F.relu(s.f1(x)))))


def conv_bn_relu(i, o):
    return [nn.Conv2d(i,o,3,padding=1,bias=False), nn.BatchNorm2d(o), nn.ReLU()]


class DigitCNN(nn.Module):
    def __init__(s, classes=10):
        super().__init__()
        def stage(i,o): return [*conv_bn_relu(i,o), *conv_bn_relu(o,o), nn.MaxPool2d(2), nn.Dropout(0.25)]
        s.f=nn.Sequential(*stage(1,32),*stage(32,64),nn.Flatten(),nn.Linear(3136,256),nn.ReLU(),nn.Dropout(0.5),nn.Linear(256,classes))
    def forward(s,x): return s.f(x)


class CharCNN(nn.Module):
    def __init__(s, classes=3755, side=32):
        super().__init__(); L=[]; i=1
        for o in [32,64,128,256]: L += ([nn.MaxPool2d(2)] if i>1 else []) + [*conv_bn_relu(i,o), *conv_bn_relu(o,o)]; i=o
        s.f=nn.Sequential(*L, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(256, classes))
    def forward(s,x): return s.f(x)


class Block(nn.Module):
    def __init__(s,i,o,st):
        super().__init__(); s.c1=nn.Conv2d(i,o,3,st,1,bias=False); s.b1=nn.BatchNorm2d(o); s.c2=nn.Conv2d(o,o,3,1,1,bias=False); s.b2=nn.BatchNorm2d(o)
        s.down = nn.Sequential(nn.Conv2d(i,o,1,st,bias=False), nn.BatchNorm2d(o)) if (st!=1 or i!=o) else None
    def forward(s,x):
        idn = s.down(x) if s.down is not None else x
        return F.relu(s.b2(s.c2(F.relu(s.b1(s.c1(x)))))+idn)


class ResNet18(nn.Module):
    def __init__(s, classes=3755):
        super().__init__(); s.stem=nn.Conv2d(1,64,3,1,1,bias=False); s.bn=nn.BatchNorm2d(64); L=[]; i=64
        for o,st in [(64,1),(128,2),(256,2),(512,2)]: L+= [Block(i,o,st),Block(o,o,1)]; i=o
        s.blocks=nn.Sequential(*L); s.fc=nn.Linear(512,classes)
    def forward(s,x): return s.fc(F.adaptive_avg_pool2d(s.blocks(F.relu(s.bn(s.stem(x)))),1).flatten(1))


def build(name, classes, side):
    """The model `inkstone bench train --model NAME --classes C --input SIDE` trains."""
    if name == "lenet5": return LeNet5(classes)
    if name == "digitcnn": return DigitCNN(classes)
    if name == "charcnn": return CharCNN(classes, side)
    if name == "resnet18": return ResNet18(classes)
    raise SystemExit(f"unknown model {name}")
