"""``spectral-edge --help`` and every subcommand's ``--help`` print and exit 0."""

from __future__ import annotations

import subprocess
import sys

import pytest

from spectral_edge.validation.cli import COMMANDS, build_parser, main


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
    assert "70% of windows" in out  # a literal % survives argparse's formatting


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_subcommand_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: spectral-edge {name}")
    assert build_parser([name]).prog == "spectral-edge"


def test_help_from_the_installed_script() -> None:
    done = subprocess.run([sys.executable, "-m", "spectral_edge.validation.cli", "--help"],
                          capture_output=True, text=True, timeout=120, cwd="/")
    assert done.returncode == 0, done.stderr
    assert "usage: spectral-edge" in done.stdout and not done.stderr
