"""LightningGramMonitorCallback on a real lightning.pytorch.Trainer (CPU, float64): its Grams
equal X Xᵀ of independently recorded updates (stride 2), the statistics reach the logger,
and resuming from a Lightning checkpoint gives the uninterrupted history."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch

pl = pytest.importorskip("lightning.pytorch")

from spectral_edge.validation.integrations import _common  # noqa: E402
from spectral_edge.validation.integrations.lightning import LightningGramMonitorCallback  # noqa: E402

W, STRIDE, STEPS, PER_EPOCH = 3, 2, 24, 12


class Net(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(),
                                       torch.nn.Linear(16, 1)).double()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=1e-2)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + 0.1 * s))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def loader() -> torch.utils.data.DataLoader:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(PER_EPOCH * 4, 6, generator=gen, dtype=torch.float64)
    y = torch.sin(x.sum(dim=1, keepdim=True))
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=4)


def flat(module: torch.nn.Module) -> np.ndarray:
    named = sorted(module.named_parameters())
    return torch.cat([p.detach().reshape(-1) for _, p in named]).numpy().copy()


class Recorder(pl.Callback):
    """Independent record: the flattened parameters and the lr after every optimizer step."""

    def __init__(self) -> None:
        self.thetas: list[np.ndarray] = []
        self.lrs: list[float] = []

    def on_train_start(self, trainer, pl_module):
        self.thetas = [flat(pl_module)]

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.lrs.append(optimizer.param_groups[0]["lr"])

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.thetas.append(flat(pl_module))


def fit(root, callbacks, ckpt_path=None) -> pl.Trainer:
    checkpoint = pl.callbacks.ModelCheckpoint(dirpath=root / "ckpt", every_n_train_steps=PER_EPOCH,
                                              save_top_k=-1)
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_steps=STEPS, default_root_dir=root,
        logger=pl.loggers.CSVLogger(root, name="logs", version=0), log_every_n_steps=1,
        callbacks=[*callbacks, checkpoint], enable_progress_bar=False,
        enable_model_summary=False,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(num_workers|does not have many workers).*")
        trainer.fit(Net(), loader(), ckpt_path=ckpt_path)
    return trainer


def full_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("lightning")
    recorder = Recorder()
    gram = LightningGramMonitorCallback(window=W, stride=STRIDE, dtype=torch.float64)
    fit(root, [recorder, gram])
    return root, recorder, gram


def check_gram_equals_recorded_updates(full_run) -> None:
    root, recorder, gram = full_run
    thetas = np.stack(recorder.thetas)
    assert len(thetas) == STEPS + 1
    X = np.diff(thetas[::STRIDE], axis=0)  # δ spans STRIDE optimizer steps
    mon = gram.monitor
    assert mon.n_params == X.shape[1]
    snaps = STEPS // STRIDE
    assert mon.gram_steps().tolist() == [STRIDE * s for s in range(W, snaps + 1)]
    for K, s in zip(mon.grams(), range(W, snaps + 1), strict=True):
        rows = X[max(s - W - 1, 0):s]
        got = K if s > W else K[1:, 1:]
        err = np.max(np.abs(got - rows @ rows.T)) / np.max(np.abs(rows @ rows.T))
        assert err < 1e-10, s
    # the lr of A is the lr the step used, not the scheduler's next one
    history = mon.history()
    np.testing.assert_array_equal(history["lr"], [recorder.lrs[s - 1] for s in history["step"]])


def check_statistics_reach_the_logger_and_files(full_run) -> None:
    root, _, gram = full_run
    history = gram.monitor.history()
    metrics = pd.read_csv(root / "logs" / "version_0" / "metrics.csv")
    logged = metrics.dropna(subset=["gram/sigma_1"])
    assert len(logged) >= len(history)
    last = logged.iloc[-1]
    np.testing.assert_allclose(last["gram/sigma_1"], history["sigma_1"].iloc[-1], rtol=1e-6)
    assert last["gram/kstar"] == history["kstar"].iloc[-1]
    on_disk = pd.read_csv(root / _common.HISTORY_NAME)
    np.testing.assert_array_equal(on_disk["sigma_1"], history["sigma_1"])
    assert np.load(root / _common.GRAMS_NAME)["grams"].shape == (len(history), W + 1, W + 1)


def check_resume_gives_the_uninterrupted_history(full_run, tmp_path) -> None:
    root, _, gram = full_run
    (ckpt,) = (root / "ckpt").glob(f"*step={PER_EPOCH}.ckpt")
    state = torch.load(ckpt, weights_only=True)["callbacks"]
    assert any("LightningGramMonitorCallback" in key for key in state)
    again = LightningGramMonitorCallback(window=W, stride=STRIDE, dtype=torch.float64)
    fit(tmp_path, [again], ckpt_path=ckpt)
    expected, got = gram.monitor.history(), again.monitor.history()
    assert got["step"].tolist() == expected["step"].tolist()
    numeric = [c for c in expected.columns if expected[c].dtype.kind == "f"]
    np.testing.assert_allclose(got[numeric].to_numpy(), expected[numeric].to_numpy(),
                               rtol=1e-12, atol=0)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_trainer_run(tmp_path_factory, tmp_path) -> None:
    """One training run shared by the checks: Grams against the recorded updates, logger
    and files, then resume from the step-12 checkpoint."""
    run = full_run(tmp_path_factory)
    check_gram_equals_recorded_updates(run)
    check_statistics_reach_the_logger_and_files(run)
    check_resume_gives_the_uninterrupted_history(run, tmp_path)
