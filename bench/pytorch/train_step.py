#!/usr/bin/env python3
"""DCMH-size training steps in PyTorch (CPU), the reference column of `cmhash bench train`.

Mirrors src/cli/commands/bench-train.ts step for step:
  image MLP 4096 -> 8192 -> 64, text MLP 1386 -> 8192 -> 64 (ReLU), batch 128, Adam(lr 1e-4);
  loss = DCMH's pairwise negative log-likelihood over the batch (theta = F G^T / 2, S from labels)
         + quantization ||B - F||^2 + ||B - G||^2 + balance ||F^T 1||^2 + ||G^T 1||^2, all / (batch * batch).
Inputs are fixed random tensors (the data pipeline is not what is measured).
Prints one JSON line: {"name": "pytorch", "threads": T, "samples_per_s": X, "samples_per_cpu_s": Y, "torch": version}.
"""
import argparse
import json
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--image-dim", type=int, default=4096)
    ap.add_argument("--text-dim", type=int, default=1386)
    ap.add_argument("--hidden", type=int, default=8192)
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    n, c = args.batch, args.bits
    img = torch.nn.Sequential(torch.nn.Linear(args.image_dim, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, c))
    txt = torch.nn.Sequential(torch.nn.Linear(args.text_dim, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, c))
    opt = torch.optim.Adam(list(img.parameters()) + list(txt.parameters()), lr=1e-4)

    x = torch.rand(n, args.image_dim)
    y = (torch.rand(n, args.text_dim) < 0.01).float()
    labels = (torch.rand(n, 24) < 0.15).float()
    s = ((labels @ labels.t()) > 0).float()
    b = torch.sign(torch.randn(n, c))

    def step() -> None:
        opt.zero_grad()
        f = img(x)
        g = txt(y)
        theta = 0.5 * (f @ g.t())
        nll = -(s * theta - torch.nn.functional.softplus(theta)).sum()
        quant = ((b - f) ** 2).sum() + ((b - g) ** 2).sum()
        bal = (f.sum(0) ** 2).sum() + (g.sum(0) ** 2).sum()
        loss = (nll + quant + bal) / (n * n)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    # samples per CPU-second too: on a shared machine wall time depends on what else runs.
    print(json.dumps({"name": "pytorch", "threads": args.threads, "samples_per_s": args.steps * n / dt,
                      "samples_per_cpu_s": args.steps * n / dc, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
