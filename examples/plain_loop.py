"""A plain PyTorch loop with a GramMonitor: python examples/plain_loop.py [--steps N].

Trains a small MLP on a synthetic regression task on CPU and prints the window statistics.
"""

from __future__ import annotations

import argparse

import torch

from spectral_edge.validation.monitor import GramMonitor

COLUMNS = ["step", "sigma_1", "sigma_2", "sigma_3", "kstar", "R", "g23", "A"]


def main(argv: list[str] | None = None) -> GramMonitor:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--stride", type=int, default=1)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    monitor = GramMonitor(model, window=args.window, stride=args.stride, optimizer=optimizer)
    x = torch.randn(256, 16)
    y = torch.sin(x[:, :1] * 2) + 0.1 * x[:, 1:2]
    for _ in range(args.steps):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
        monitor.step()  # after every optimizer.step()
    print(monitor.history()[COLUMNS].tail(5).to_string(index=False))
    return monitor


if __name__ == "__main__":
    main()
