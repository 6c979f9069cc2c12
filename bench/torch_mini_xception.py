"""The same mini-Xception in PyTorch (58,423 parameters), timed on CPU: the yardstick for fer's engines.

Usage: /usr/bin/python3 bench/torch_mini_xception.py --batch 64 --steps 20 [--threads 2] [--mode train|infer]
       /usr/bin/python3 bench/torch_mini_xception.py --export-onnx torch.onnx
Prints one JSON line: {"engine": "pytorch", "mode": ..., "batch": ..., "images_per_second": ...}.
"""
import argparse, json, time
import torch
import torch.nn as nn


class Sep(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pw = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pw(self.dw(x))


class Module(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.res = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=2, bias=False), nn.BatchNorm2d(cout))
        self.a = nn.Sequential(Sep(cin, cout), nn.BatchNorm2d(cout), nn.ReLU())
        self.b = nn.Sequential(Sep(cout, cout), nn.BatchNorm2d(cout))
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x):
        return self.pool(self.b(self.a(x))) + self.res(x)


def mini_xception(classes=7):
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        Module(8, 16), Module(16, 32), Module(32, 64), Module(64, 128),
        nn.Conv2d(128, classes, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--mode", default="train", choices=["train", "infer"])
    p.add_argument("--export-onnx", help="write the (untrained) network as ONNX, opset 13, NCHW input, and exit")
    a = p.parse_args()
    if a.export_onnx:
        model = mini_xception().eval()
        torch.onnx.export(model, torch.randn(1, 1, 48, 48), a.export_onnx, opset_version=13, input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
        print(json.dumps({"exported": a.export_onnx, "torch": torch.__version__}))
        return
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = mini_xception()
    params = sum(t.numel() for t in model.parameters())
    x = torch.randn(a.batch, 1, 48, 48)
    y = torch.randint(0, 7, (a.batch,))
    if a.mode == "train":
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        loss_fn = nn.CrossEntropyLoss()
        model.train()

        def step():
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
    for _ in range(3):
        step()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t
    print(json.dumps({"engine": "pytorch", "mode": a.mode, "batch": a.batch, "threads": torch.get_num_threads(),
                      "parameters": params, "images_per_second": a.batch * a.steps / dt, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
