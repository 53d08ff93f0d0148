"""A plain PyTorch loop with a GramMonitor: python examples/plain_loop.py [--steps N].

Trains a small MLP on a synthetic regression task on CPU and prints the window statistics.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from spectral_edge.validation.monitor import GramMonitor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import parse_args, print_tail  # noqa: E402


def main(argv: list[str] | None = None) -> GramMonitor:
    args = parse_args(__doc__, argv, steps=300, out_help=None)

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
    print_tail(monitor)
    return monitor


if __name__ == "__main__":
    main()
