"""HFGramMonitorCallback on a real transformers.Trainer training a tiny random GPT-2 (float64,
no download): its Grams equal X Xᵀ of independently recorded updates, the statistics reach
the loggers, and checkpoint/resume gives the uninterrupted history."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch

transformers = pytest.importorskip("transformers")

from spectral_edge.validation.integrations import _common  # noqa: E402
from spectral_edge.validation.integrations.hf import HFGramMonitorCallback  # noqa: E402

W, STEPS = 4, 32


class Tokens(torch.utils.data.Dataset):
    def __init__(self, n: int = 64, length: int = 12, vocab: int = 50) -> None:
        gen = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, vocab, (n, length), generator=gen)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def tiny_gpt2() -> torch.nn.Module:
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=50, n_positions=16, n_embd=16, n_layer=2, n_head=2,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )
    return transformers.GPT2LMHeadModel(config).double()


def flat(model: torch.nn.Module) -> np.ndarray:
    named = sorted((n, p) for n, p in model.named_parameters() if p.requires_grad)
    return torch.cat([p.detach().reshape(-1).double() for _, p in named]).numpy().copy()


class Recorder(transformers.TrainerCallback):
    """Independent record: the flattened parameters before training and after each step."""

    def __init__(self) -> None:
        self.thetas: list[np.ndarray] = []
        self.logs: list[dict] = []

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.thetas = [flat(model)]

    def on_optimizer_step(self, args, state, control, model=None, **kwargs):
        self.thetas.append(flat(model))

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs, step=state.global_step))


def trainer(out, callbacks, steps=STEPS) -> transformers.Trainer:
    args = transformers.TrainingArguments(
        output_dir=str(out), max_steps=steps, per_device_train_batch_size=4,
        learning_rate=3e-3, logging_steps=4, save_strategy="steps", save_steps=16,
        report_to="none", use_cpu=True, seed=0, disable_tqdm=True, dataloader_num_workers=0,
    )
    return transformers.Trainer(model=tiny_gpt2(), args=args, train_dataset=Tokens(),
                                callbacks=callbacks)


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hf")
    recorder = Recorder()
    # the recorder is listed first: the callback must move itself ahead of it (as of a logger)
    gram = HFGramMonitorCallback(window=W, dtype=torch.float64, keep_grams=True)
    t = trainer(out, [recorder, gram])
    t.train()
    return out, recorder, gram, t


def check_gram_equals_recorded_updates(full_run) -> None:
    out, recorder, gram, _ = full_run
    X = np.diff(np.stack(recorder.thetas), axis=0)
    assert X.shape[0] == STEPS and gram.monitor.n_params == X.shape[1]
    grams, steps = gram.monitor.grams(), gram.monitor.gram_steps()
    assert steps.tolist() == list(range(W, STEPS + 1))
    for K, s in zip(grams, steps, strict=True):
        rows = X[max(s - W - 1, 0):s]
        want = rows @ rows.T
        got = K if s > W else K[1:, 1:]  # the first window's oldest slot is still empty
        assert rel(got, want) < 1e-10, s
    sigma = np.linalg.svd(X[-W:], compute_uv=False)
    np.testing.assert_allclose(gram.monitor.stats.sigma, sigma, rtol=1e-9)
    # lr of A: the optimizer's lr of the step (read before the scheduler steps)
    lr = gram.monitor.history()["lr"].to_numpy()
    assert lr[0] > lr[-1] > 0


def check_statistics_reach_the_logs_and_files(full_run) -> None:
    out, recorder, gram, t = full_run
    history = gram.monitor.history()
    logged = [entry for entry in recorder.logs if "loss" in entry]
    assert [e["step"] for e in logged] == list(range(4, STEPS + 1, 4))
    for entry in logged:
        if entry["step"] < W:
            assert not any(k.startswith("gram/") for k in entry)
            continue
        row = history[history["step"] == entry["step"]].iloc[0]
        assert entry["gram/sigma_1"] == row["sigma_1"]
        assert entry["gram/kstar"] == row["kstar"] and entry["gram/R"] == row["R"]
        assert {"gram/sigma_2", "gram/sigma_3"} <= set(entry)
        assert entry["gram/g_sigma"] == row["g_sigma"]
        assert entry["gram/g23_lambda"] == row["g23_lambda"]
        if entry["step"] > W:
            assert entry["gram/A"] == row["A"]
    in_state = [e for e in t.state.log_history if "gram/sigma_1" in e and "loss" in e]
    assert len(in_state) == len([e for e in logged if e["step"] >= W])
    on_disk = pd.read_csv(out / _common.HISTORY_NAME)
    np.testing.assert_array_equal(on_disk["sigma_1"], history["sigma_1"])
    npz = np.load(out / _common.GRAMS_NAME)
    np.testing.assert_array_equal(npz["grams"], gram.monitor.grams())
    assert (out / "checkpoint-16" / _common.STATE_NAME).is_file()


def check_resume_gives_the_uninterrupted_history(full_run) -> None:
    out, _, gram, _ = full_run
    expected = gram.monitor.history()
    shutil.rmtree(out / f"checkpoint-{STEPS}")  # resume from checkpoint-16
    again = HFGramMonitorCallback(window=W, dtype=torch.float64)
    trainer(out, [again]).train(resume_from_checkpoint=True)
    got = again.monitor.history()
    assert got["step"].tolist() == expected["step"].tolist()
    numeric = [c for c in expected.columns if expected[c].dtype.kind == "f"]
    np.testing.assert_allclose(got[numeric].to_numpy(), expected[numeric].to_numpy(),
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(again.monitor.grams(), gram.monitor.grams(), rtol=1e-12,
                               atol=1e-300)


def test_resume_without_monitor_state_warns(tmp_path) -> None:
    t = trainer(tmp_path, [], steps=4)
    t.args.save_steps = 2
    t.train()
    shutil.rmtree(tmp_path / "checkpoint-4")
    cb = HFGramMonitorCallback(window=2)
    with pytest.warns(RuntimeWarning, match="starts a new window"):
        trainer(tmp_path, [cb], steps=4).train(resume_from_checkpoint=True)
    assert cb.monitor is not None and cb.monitor.skipped == 0


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: on a shared 2-core machine, spinning threads slow a tiny model
    down several times."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_trainer_run(tmp_path_factory) -> None:
    """One training run (shared by the checks, so that pytest-xdist never trains it twice):
    Grams against the recorded updates, logs and files, then resume from checkpoint-16."""
    run = full_run(tmp_path_factory)
    check_gram_equals_recorded_updates(run)
    check_statistics_reach_the_logs_and_files(run)
    check_resume_gives_the_uninterrupted_history(run)
