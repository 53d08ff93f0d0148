"""Trackers: ``train --tensorboard DIR`` event files read back with TensorBoard's own reader
(``EventAccumulator``) hold the window statistics (equal to spectra.csv), the evaluations and
the probes; the Hugging Face callback's statistics reach TensorBoard through the Trainer's
own ``report_to="tensorboard"`` callback."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spectral_edge.validation.cli import main
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.training import run

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)

TINY = ["--p", "7", "--d-model", "8", "--n-heads", "2", "--d-ff", "8", "--n-layers", "1",
        "--batch-size", "16", "--steps", "24", "--eval-every", "6", "--window", "3",
        "--stride", "2", "--probe-every", "2", "--probe-hess-every", "none",
        "--stop-after-grok", "none", "--quiet", "--no-plots"]


def scalars(log_dir: Path) -> dict[str, dict[int, float]]:
    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: {e.step: e.value for e in acc.Scalars(tag)} for tag in acc.Tags()["scalars"]}


def test_train_tensorboard_holds_windows_evals_and_probes(tmp_path: Path) -> None:
    out, tb = tmp_path / "run", tmp_path / "tb"
    assert main(["train", "--out", str(out), "--tensorboard", str(tb), *TINY]) == 0
    logged = scalars(tb)
    window = [f"gram/sigma_{j}" for j in (1, 2, 3)] + [f"gram/alpha_{j}" for j in (1, 2)]
    window += ["gram/kstar", "gram/g_sigma", "gram/R", "gram/g23_lambda", "gram/A",
               "gram/A_dk", "gram/vacuity"]
    evals = ["eval/train_loss", "eval/test_loss", "eval/train_acc", "eval/test_acc"]
    probes = ["probe/h_1", "probe/G_train_1", "probe/G_val_1", "probe/Gamma_1"]
    assert set(window + evals + probes) <= set(logged), sorted(logged)
    spectra = pd.read_csv(out / "spectra.csv")
    assert sorted(logged["gram/sigma_1"]) == spectra["step"].tolist()
    for _, row in spectra.iterrows():
        assert logged["gram/sigma_1"][int(row["step"])] == pytest.approx(row["sigma_1"], rel=1e-6)
        assert logged["gram/kstar"][int(row["step"])] == row["kstar"]
    metrics = pd.read_csv(out / "metrics.csv")
    assert sorted(logged["eval/test_acc"]) == metrics["step"].tolist()
    probed = pd.read_csv(out / "probes.csv")
    first = probed[probed["mode"] == 1]
    assert sorted(logged["probe/h_1"]) == first["step"].tolist()


def test_a_resumed_run_logs_only_the_new_part(tmp_path: Path) -> None:
    cfg = RunConfig.protocol("modadd", p=7, d_model=8, n_heads=2, d_ff=8, n_layers=1,
                             batch_size=16, steps=20, eval_every=5, window=2, stride=2,
                             probe_every=None, stop_after_grok=None, checkpoint_every=5)
    run(cfg, tmp_path / "r", stop_after=10, progress=False, plots=False,
        tensorboard=tmp_path / "tb")
    run(cfg, tmp_path / "r", resume=True, progress=False, plots=False,
        tensorboard=tmp_path / "tb")
    assert sorted(scalars(tmp_path / "tb")["eval/test_loss"]) == [0, 5, 10, 15, 20]


def test_hf_statistics_reach_tensorboard_through_report_to(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    transformers = pytest.importorskip("transformers")
    import torch

    from spectral_edge.validation.integrations.hf import HFGramMonitorCallback

    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=30, n_positions=8, n_embd=8, n_layer=1, n_head=2))
    ids = torch.randint(0, 30, (32, 8), generator=torch.Generator().manual_seed(0))
    data = [{"input_ids": x, "labels": x} for x in ids]
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", str(tmp_path / "tb"))
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "hf"), max_steps=12, per_device_train_batch_size=4,
        logging_steps=4, save_strategy="no", report_to=["tensorboard"], use_cpu=True,
        disable_tqdm=True, dataloader_num_workers=0)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=data,
                                   callbacks=[HFGramMonitorCallback(window=3, stride=1)])
    trainer.train()
    logged = scalars(tmp_path / "tb")
    for tag in ("gram/sigma_1", "gram/kstar", "gram/R", "gram/g_sigma", "gram/A_dk",
                "gram/vacuity"):
        assert any(t.endswith(tag) for t in logged), (tag, sorted(logged))


def test_lightning_statistics_reach_its_tensorboard_logger(tmp_path: Path) -> None:
    pl = pytest.importorskip("lightning.pytorch")
    import torch

    from spectral_edge.validation.integrations.lightning import LightningGramMonitorCallback

    class Net(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.net = torch.nn.Linear(6, 1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    x = torch.randn(48, 6, generator=torch.Generator().manual_seed(1))
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True)),
                                       batch_size=4)
    logger = pl.loggers.TensorBoardLogger(str(tmp_path), name="tb", version=0)
    trainer = pl.Trainer(max_steps=12, logger=logger, log_every_n_steps=1,
                         default_root_dir=str(tmp_path),
                         callbacks=[LightningGramMonitorCallback(window=3)],
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu")
    trainer.fit(Net(), data)
    logged = scalars(tmp_path / "tb" / "version_0")
    assert {"gram/sigma_1", "gram/kstar", "gram/R", "gram/vacuity"} <= set(logged), sorted(logged)
