"""Lightning with the Gram monitor: python examples/lightning_fit.py [--steps N].

A small MLP LightningModule on CPU; the callback logs gram/* statistics (here to a
CSVLogger) and writes gram_history.csv and gram_grams.npz into --out.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import lightning.pytorch as pl
import torch

from spectral_edge.validation.integrations.lightning import LightningGramMonitorCallback

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import parse_args, print_tail  # noqa: E402


class Regressor(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.Tanh(),
                                       torch.nn.Linear(64, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=1e-2, weight_decay=0.1)


def main(argv: list[str] | None = None) -> LightningGramMonitorCallback:
    args = parse_args(__doc__, argv, steps=300)

    torch.manual_seed(0)
    x = torch.randn(512, 16)
    data = torch.utils.data.TensorDataset(x, torch.sin(2 * x[:, :1]) + 0.1 * x[:, 1:2])
    loader = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True)
    out = args.out or tempfile.mkdtemp(prefix="lightning-gram-")
    callback = LightningGramMonitorCallback(window=args.window, stride=args.stride)
    trainer = pl.Trainer(accelerator="cpu", devices=1, max_steps=args.steps, default_root_dir=out,
                         logger=pl.loggers.CSVLogger(out), callbacks=[callback],
                         enable_progress_bar=False, enable_model_summary=False,
                         enable_checkpointing=False, log_every_n_steps=10)
    trainer.fit(Regressor(), loader)
    print_tail(callback.monitor)
    print(f"history and Grams in {out}")
    return callback


if __name__ == "__main__":
    main()
