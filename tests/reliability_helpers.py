"""Shared by the second-pass reliability tests: a tiny finished run, a snapshot of a tree
(bytes and modification times), and the standard CLI assertions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spectral_edge.validation.cli import main

TINY = {
    "task": "modadd", "p": 7, "d_model": 8, "n_heads": 2, "d_ff": 8, "n_layers": 1,
    "batch_size": 16, "steps": 10, "eval_every": 5, "window": 2, "stride": 2,
    "checkpoint_every": 5, "probe_every": None,
}
QUIET = ["--quiet", "--no-plots"]


def make_finished(root: Path) -> Path:
    """``root/tiny.json`` and a finished tiny run in ``root/run``; returns ``root``."""
    cfg = root / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    assert main(["train", "--config", str(cfg), "--out", str(root / "run"), *QUIET]) == 0
    return root


def copy_workspace(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
    return target



def snapshot(root: Path) -> dict[str, tuple[bytes, int] | str]:
    """Every entry under ``root``: files as (bytes, mtime_ns), folders and links by kind."""
    out: dict[str, tuple[bytes, int] | str] = {}
    for p in sorted(root.rglob("*")):
        key = str(p.relative_to(root))
        if p.is_symlink():
            out[key] = f"link -> {p.readlink()}"
        elif p.is_dir():
            out[key] = "dir"
        elif p.is_file():
            out[key] = (p.read_bytes(), p.stat().st_mtime_ns)
        else:
            out[key] = "special"
    return out


def assert_refused(ws: Path, argv: list[str], needles: list[str],
                   capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI on ``argv`` ({ws} replaced): exit 2, one stderr line holding every
    needle, no traceback, nothing under ``ws`` changed. Returns the line."""
    before = snapshot(ws)
    capsys.readouterr()
    status = main([a.replace("{ws}", str(ws)) for a in argv])
    captured = capsys.readouterr()
    err = captured.err
    assert status == 2, (status, err, captured.out[-500:])
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle.replace("{ws}", str(ws)) in err, (needle, err)
    assert snapshot(ws) == before
    return err
