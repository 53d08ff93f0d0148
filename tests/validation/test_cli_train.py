"""``spectral-edge train`` and ``sweep`` end to end: files, resume, grid skipping, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from spectral_edge.validation.cli import main

TINY = [
    "--p",
    "7",
    "--d-model",
    "8",
    "--n-heads",
    "2",
    "--d-ff",
    "8",
    "--n-layers",
    "1",
    "--batch-size",
    "16",
    "--eval-every",
    "5",
    "--window",
    "2",
    "--stride",
    "2",
    "--checkpoint-every",
    "5",
    "--quiet",
    "--no-plots",
]


def test_train_then_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    args = [
        "train",
        "--task",
        "modsub",
        "--optimizer",
        "sgd",
        "--wd",
        "0",
        "--seed",
        "3",
        "--lr",
        "0.1",
        "--momentum",
        "0.9",
        "--steps",
        "20",
        "--out",
        str(out),
        *TINY,
    ]
    assert main([*args, "--stop-after", "7"]) == 0
    assert "paused at step 7" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "modsub" and config["optimizer"] == "sgd" and config["lr"] == 0.1
    assert config["wd"] == 0.0 and config["momentum"] == 0.9 and config["grad_clip"] == 1.0
    assert main(["train", "--out", str(out), "--resume", "--quiet"]) == 0
    assert "modsub sgd wd=0 seed=3" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps_done"] == 20
    assert pd.read_csv(out / "metrics.csv")["step"].tolist() == [0, 5, 10, 15, 20]


def test_train_from_config_file_with_override(tmp_path: Path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(
        json.dumps(
            {
                "task": "modadd",
                "steps": 4,
                "p": 5,
                "d_model": 8,
                "n_heads": 2,
                "d_ff": 8,
                "n_layers": 1,
                "window": 2,
                "stride": 1,
                "eval_every": 2,
                "stop_after_grok": None,
            }
        )
    )
    out = tmp_path / "run"
    assert main(["train", "--config", str(cfg), "--seed", "9", "--out", str(out), "--quiet"]) == 0
    stored = json.loads((out / "config.json").read_text())
    assert stored["seed"] == 9 and stored["steps"] == 4 and stored["stop_after_grok"] is None


def test_sweep_runs_grid_and_skips_finished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "sweep",
        "--task",
        "modadd,modmul",
        "--seed",
        "1,2",
        "--steps",
        "6",
        "--out",
        str(tmp_path),
        *TINY,
    ]
    assert main(args) == 0
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert sorted(table["name"]) == [
        "modadd_adamw_wd1_s1",
        "modadd_adamw_wd1_s2",
        "modmul_adamw_wd1_s1",
        "modmul_adamw_wd1_s2",
    ]
    assert (table["status"] == "finished").all() and (table["steps_done"] == 6).all()
    capsys.readouterr()
    assert main(args) == 0
    assert "4 already finished" in capsys.readouterr().out


def test_sweep_with_two_workers(tmp_path: Path) -> None:
    args = [
        "sweep",
        "--task",
        "modadd",
        "--wd",
        "1.0,0.0",
        "--steps",
        "4",
        "--workers",
        "2",
        "--out",
        str(tmp_path),
        *TINY,
    ]
    assert main(args) == 0
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert sorted(table["name"]) == ["modadd_adamw_wd0_s42", "modadd_adamw_wd1_s42"]
    assert (table["status"] == "finished").all()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--lr=-1e-3"], "config field lr must be a finite number > 0"),
        (["--task", "mnist"], "config field task must be one of"),
        (["--window", "1"], "config field window must be an integer >= 2"),
        (["--steps", "many"], "config field steps must be int"),
        (["--optimizer", "adam"], "config field optimizer must be one of"),
    ],
)
def test_train_bad_input_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["train", "--out", str(tmp_path / "r"), *TINY, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r" / "checkpoint.pt").exists()


def test_corrupt_config_and_sweep_bad_input_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["sweep", "--task", "modadd,nope", "--out", str(tmp_path / "s")]) == 2
    assert "got 'nope'" in capsys.readouterr().err
    assert main(["sweep", "--workers", "0", "--out", str(tmp_path / "s")]) == 2


def test_probes_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["train", "--steps", "4", "--eval-every", "2", *TINY]
    assert main([*base, "--out", str(tmp_path / "off"), "--no-probes"]) == 0
    assert main([*base, "--out", str(tmp_path / "on"), "--probes"]) == 0
    off = json.loads((tmp_path / "off" / "config.json").read_text())
    on = json.loads((tmp_path / "on" / "config.json").read_text())
    assert off["probe_every"] is None and on["probe_every"] == 10
    assert not (tmp_path / "off" / "probes.csv").exists()
    assert main([*base, "--out", str(tmp_path / "x"), "--no-probes", "--probe-every", "3"]) == 2
    assert "contradicts" in capsys.readouterr().err
