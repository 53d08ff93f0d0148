"""Bad input and faults, as a careless user would cause them, across the CLI and the library.

Every CLI case asserts exit status 2, exactly one line on stderr, no traceback, and that
the directory it touched (an existing run directory, or the place a new one would go) is
unchanged byte for byte. Every library case asserts an ``InputError`` whose message
names the argument.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from spectral_edge.common.errors import InputError
from spectral_edge.numerics import spectra
from spectral_edge.validation.cli import main
from spectral_edge.validation.monitor import GramMonitor
from spectral_edge.validation.runs import rundir
from spectral_edge.validation.runs.config import RunConfig
from spectral_edge.validation.runs.optimizers import build_optimizer

TINY = {
    "task": "modadd",
    "p": 7,
    "d_model": 8,
    "n_heads": 2,
    "d_ff": 8,
    "n_layers": 1,
    "batch_size": 16,
    "steps": 10,
    "eval_every": 5,
    "window": 2,
    "stride": 2,
    "checkpoint_every": 5,
}
QUIET = ["--quiet", "--no-plots"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny finished run directory (copied per test by ``workspace``)."""
    root = tmp_path_factory.mktemp("finished")
    cfg = root / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    assert main(["train", "--config", str(cfg), "--out", str(root / "run"), *QUIET]) == 0
    return root


@pytest.fixture
def workspace(finished_run: Path, tmp_path: Path) -> Path:
    """``tmp_path`` with ``tiny.json`` and a finished run in ``run/``."""
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()} | {
        str(p.relative_to(root)) + "/": b"" for p in root.rglob("*") if p.is_dir()
    }


def edit_checkpoint(edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def prepare(ws: Path) -> None:
        path = ws / "run" / "checkpoint.pt"
        state = torch.load(path, weights_only=True)
        result = edit(state)
        torch.save(state if result is None else result, path)

    return prepare


def _drop(key: str, inside: str | None = None) -> Callable[[dict], None]:
    def edit(state: dict) -> None:
        target = state if inside is None else state[inside]
        target.pop(key if key else next(iter(target)))

    return edit


def _resize_first_tensor(state: dict) -> None:
    name = next(iter(state["model"]))
    state["model"][name] = torch.zeros(3, 3, 3)


class _NotWeights:  # pickled by torch.save; a weights-only load refuses it
    pass


def _truncate(ws: Path) -> None:
    path = ws / "run" / "checkpoint.pt"
    path.write_bytes(path.read_bytes()[:100])


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda ws: (ws / name).write_text(text)


def _hold_lock(ws: Path) -> Callable[[], object]:
    return rundir.exclusive(ws / "run")


T = ["train", "--config", "{ws}/tiny.json", "--out", "{ws}/new", *QUIET]
R = ["train", "--out", "{ws}/run", "--resume", *QUIET]

# (id, argv with {ws} for the workspace, text the error line must contain, preparation)
CLI_CASES: list[tuple[str, list[str], str, Callable[[Path], None] | None]] = [
    ("lr-negative", [*T, "--lr=-1e-3"], "config field lr", None),
    ("lr-inf", [*T, "--lr", "inf"], "config field lr", None),
    ("lr-nan", [*T, "--lr", "nan"], "config field lr", None),
    ("lr-word", [*T, "--lr", "fast"], "config field lr", None),
    ("wd-inf", [*T, "--wd", "inf"], "config field wd", None),
    ("wd-negative", [*T, "--wd=-1"], "config field wd", None),
    ("seed-negative", [*T, "--seed=-1"], "config field seed", None),
    ("seed-expression", [*T, "--seed", "2**70"], "config field seed", None),
    ("seed-huge", [*T, "--seed", str(2**70)], "config field seed", None),
    ("window-1", [*T, "--window", "1"], "config field window", None),
    ("window-fraction", [*T, "--window", "2.5"], "config field window", None),
    ("stride-0", [*T, "--stride", "0"], "config field stride", None),
    ("batch-0", [*T, "--batch-size", "0"], "config field batch_size", None),
    ("steps-word", [*T, "--steps", "many"], "config field steps", None),
    ("task-unknown", [*T, "--task", "mnist"], "config field task", None),
    ("optimizer-unknown", [*T, "--optimizer", "adam"], "config field optimizer", None),
    ("model-unknown", [*T, "--model", "cnn"], "config field model", None),
    ("sketch-below-window", [*T, "--sketch-dim", "1"], "config field sketch_dim", None),
    ("beta1-one", [*T, "--beta1", "1.0"], "config field beta1", None),
    ("momentum-negative", [*T, "--momentum=-0.5"], "config field momentum", None),
    ("train-frac-zero", [*T, "--train-frac", "0"], "config field train_frac", None),
    ("train-frac-above-1", [*T, "--train-frac", "1.5"], "config field train_frac", None),
    ("grok-threshold-2", [*T, "--grok-threshold", "2"], "config field grok_threshold", None),
    ("threads-0", [*T, "--threads", "0"], "config field threads", None),
    ("device-tpu", [*T, "--device", "tpu"], "config field device", None),
    ("device-cuda-abc", [*T, "--device", "cuda:abc"], "config field device", None),
    ("grok-metric-unknown", [*T, "--grok-metric", "f1"], "grok_metric", None),
    ("stop-after-0", [*T, "--stop-after", "0"], "stop-after", None),
    ("config-missing", ["train", "--config", "{ws}/nope.json", "--out", "{ws}/new"],
     "nope.json", None),
    ("config-corrupt", ["train", "--config", "{ws}/bad.json", "--out", "{ws}/new"],
     "not valid JSON", _write("bad.json", "{not json")),
    ("config-list", ["train", "--config", "{ws}/bad.json", "--out", "{ws}/new"],
     "JSON object", _write("bad.json", "[1, 2]")),
    ("config-unknown-key", ["train", "--config", "{ws}/bad.json", "--out", "{ws}/new"],
     "unknown config field", _write("bad.json", '{"learning_rate": 0.1}')),
    ("config-null-lr", ["train", "--config", "{ws}/bad.json", "--out", "{ws}/new"],
     "config field lr", _write("bad.json", '{"lr": null}')),
    ("out-holds-run", ["train", "--config", "{ws}/tiny.json", "--out", "{ws}/run", *QUIET],
     "already holds a run", None),
    ("resume-other-config", [*R, "--config", "{ws}/tiny.json", "--wd", "0.5"],
     "different config", None),
    ("resume-missing-dir", ["train", "--out", "{ws}/never", "--resume", *QUIET],
     "does not exist", None),
    ("out-is-a-file", ["train", "--config", "{ws}/tiny.json", "--out", "{ws}/tiny.json"],
     "not a directory", None),
    ("checkpoint-missing-key", R, "'rows'", edit_checkpoint(_drop("rows"))),
    ("checkpoint-wrong-type", R, "'step'", edit_checkpoint(lambda s: s.update(step="ten"))),
    ("checkpoint-negative-step", R, "'step'", edit_checkpoint(lambda s: s.update(step=-5))),
    ("checkpoint-tensor-shape", R, "shape", edit_checkpoint(_resize_first_tensor)),
    ("checkpoint-model-not-dict", R, "'model'", edit_checkpoint(lambda s: s.update(model=[]))),
    ("checkpoint-not-dict", R, "not a dict", edit_checkpoint(lambda s: [1, 2, 3])),
    ("checkpoint-not-weights", R, "refused", edit_checkpoint(lambda s: _NotWeights())),
    ("checkpoint-truncated", R, "cannot read checkpoint", _truncate),
    ("checkpoint-monitor-broken", R, "monitor",
     edit_checkpoint(_drop("", inside="monitor"))),
    ("derive-only-comma", ["derive", "--only", ","], "--only", None),
    ("derive-only-blank", ["derive", "--only", " "], "--only", None),
    ("derive-unknown-id", ["derive", "--only", "R99"], "R99", None),
    ("derive-latex-into-dir", ["derive", "--only", "R10", "--latex", "--out", "{ws}/run"],
     "directory", None),
    ("simulate-unknown", ["simulate", "nope"], "nope", None),
    ("simulate-crosscheck-dir", ["simulate", "--crosscheck", "{ws}/run", "--quick"],
     "directory", None),
    ("simulate-csv-missing-parent", ["simulate", "plateau", "--csv", "{ws}/no/such/x.csv"],
     "no", None),
    ("sweep-workers-0", ["sweep", "--out", "{ws}/sw", "--workers", "0", "--steps", "5"],
     "--workers", None),
    ("sweep-task-unknown", ["sweep", "--out", "{ws}/sw", "--task", "modadd,nope"],
     "config field task", None),
    ("sweep-wd-inf", ["sweep", "--out", "{ws}/sw", "--wd", "1,inf"], "config field wd", None),
    ("demo-steps-0", ["demo", "--out", "{ws}/demo", "--steps", "0"], "--steps", None),
]


@pytest.mark.parametrize(
    ("argv", "needle", "prepare"),
    [pytest.param(a, n, p, id=i) for i, a, n, p in CLI_CASES],
)
def test_cli_bad_input_one_line_exit_2_nothing_changed(
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    needle: str,
    prepare: Callable[[Path], None] | None,
) -> None:
    if prepare is not None:
        prepare(workspace)
    before = snapshot(workspace)
    capsys.readouterr()
    status = main([a.replace("{ws}", str(workspace)) for a in argv])
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert needle in err, err
    assert snapshot(workspace) == before


def test_a_second_writer_gets_exit_2_naming_the_holder(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with rundir.exclusive(workspace / "run"):
        before = snapshot(workspace)
        status = main(["train", "--out", str(workspace / "run"), "--resume", *QUIET])
        after = snapshot(workspace)
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "another process is writing" in err and "pid" in err
    assert after == before


def test_device_cuda_without_cuda_is_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    before = snapshot(workspace)
    status = main(["train", "--config", str(workspace / "tiny.json"), "--out",
                   str(workspace / "new"), "--device", "cuda", *QUIET])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "CUDA is not available" in err
    assert snapshot(workspace) == before


# ----------------------------------------------------------------------------- library


def _linear() -> torch.nn.Module:
    return torch.nn.Linear(4, 3)


def _monitor_state_with(key: str, value: object) -> Callable[[], object]:
    def call() -> object:
        mon = GramMonitor(_linear(), window=2)
        state = mon.state_dict()
        if value is _MISSING:
            state.pop(key)
        else:
            state[key] = value
        return mon.load_state_dict(state)

    return call


_MISSING = object()

LIBRARY_CASES: list[tuple[str, Callable[[], object], str]] = [
    ("monitor-window-1", lambda: GramMonitor(_linear(), window=1), "window"),
    ("monitor-window-float", lambda: GramMonitor(_linear(), window=2.5), "window"),
    ("monitor-stride-0", lambda: GramMonitor(_linear(), window=2, stride=0), "stride"),
    ("monitor-lr-inf", lambda: GramMonitor(_linear(), window=2, lr=math.inf), "lr"),
    ("monitor-lr-nan", lambda: GramMonitor(_linear(), window=2, lr=math.nan), "lr"),
    ("monitor-lr-negative", lambda: GramMonitor(_linear(), window=2, lr=-0.1), "lr"),
    ("monitor-not-tensors", lambda: GramMonitor([1, 2, 3], window=2), "tensor"),
    ("monitor-meta-device",
     lambda: GramMonitor(torch.nn.Linear(4, 3, device="meta"), window=2), "meta"),
    ("monitor-complex",
     lambda: GramMonitor([torch.zeros(3, dtype=torch.complex64, requires_grad=True)], window=2),
     "complex"),
    ("monitor-bad-regex", lambda: GramMonitor(_linear(), window=2, select="(["), "select"),
    ("monitor-select-nothing", lambda: GramMonitor(_linear(), window=2, select="^zzz"),
     "select"),
    ("monitor-sketch-below-window",
     lambda: GramMonitor(_linear(), window=4, sketch_dim=2), "sketch_dim"),
    ("monitor-huge-window", lambda: GramMonitor(torch.nn.Linear(1000, 1000), window=10_000),
     "memory"),
    ("monitor-state-not-dict", lambda: GramMonitor(_linear(), window=2).load_state_dict([]),
     "state"),
    ("monitor-state-missing-key", _monitor_state_with("gram_slots", _MISSING), "gram_slots"),
    ("monitor-state-wrong-shape",
     _monitor_state_with("gram_slots", np.zeros((7, 7))), "gram_slots"),
    ("spectra-nan-gram", lambda: spectra.window_stats(np.full((3, 3), np.nan), P=10), "finite"),
    ("spectra-not-square", lambda: spectra.window_stats(np.zeros((3, 4)), P=10), "square"),
    ("spectra-w-1", lambda: spectra.window_stats(np.ones((1, 1)), P=10), "W >= 2"),
    ("config-wd-inf", lambda: RunConfig.protocol("modadd", wd=math.inf), "config field wd"),
    ("config-seed-negative", lambda: RunConfig.protocol("modadd", seed=-1), "config field seed"),
    ("config-bool-steps", lambda: RunConfig.protocol("modadd", steps=True), "config field steps"),
    ("optimizer-lr-negative",
     lambda: build_optimizer(_linear(), "adamw", lr=-1.0), "learning rate"),
    ("optimizer-unknown", lambda: build_optimizer(_linear(), "adam", lr=1.0), "adam"),
]


@pytest.mark.parametrize(
    ("call", "needle"), [pytest.param(c, n, id=i) for i, c, n in LIBRARY_CASES]
)
def test_library_bad_input_raises_input_error(call: Callable[[], object], needle: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_failed_monitor_load_leaves_the_window_intact() -> None:
    torch.manual_seed(0)
    model = _linear()
    mon = GramMonitor(model, window=3, dtype=torch.float64)
    for _ in range(4):
        with torch.no_grad():
            model.weight.add_(torch.randn_like(model.weight))
        mon.step()
    before = copy.deepcopy(mon.state_dict())
    bad = mon.state_dict()
    bad["gram_slots"] = np.zeros((7, 7))
    with pytest.raises(InputError):
        mon.load_state_dict(bad)
    assert _same(mon.state_dict(), before)
    assert not _same(bad, before)  # the comparison can fail


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray | torch.Tensor) or isinstance(b, np.ndarray | torch.Tensor):
        x, y = np.asarray(a), np.asarray(b)
        return x.shape == y.shape and bool(np.array_equal(x, y, equal_nan=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b
