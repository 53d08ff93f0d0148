"""``spectral-edge simulate``: bad output paths end in exit status 2 and one stderr line
before any work, and every output is written atomically (no ``PATH.tmp`` left behind)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from spectral_edge.numerics import report
from spectral_edge.validation import cli

ROOT = Path(__file__).resolve().parents[2]


def _listing(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


def _fail_if_run(*args, **kwargs):
    raise AssertionError("the work ran although the output path is bad")


def _assert_one_error_line(capsys: pytest.CaptureFixture[str], *words: str) -> None:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("spectral-edge: error: ") and "Traceback" not in err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize("where", ["directory", "missing parent", "parent is a file"])
def test_crosscheck_bad_path_exits_2_before_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    (tmp_path / "a_file").write_text("keep")
    target = {
        "directory": tmp_path,
        "missing parent": tmp_path / "no" / "such" / "report.md",
        "parent is a file": tmp_path / "a_file" / "report.md",
    }[where]
    monkeypatch.setattr(report.CrossChecks, "run", classmethod(_fail_if_run))
    before = _listing(tmp_path)
    assert cli.main(["simulate", "--crosscheck", str(target), "--quick"]) == 2
    _assert_one_error_line(capsys, "--crosscheck")
    assert _listing(tmp_path) == before  # nothing written, no REPORT.tmp


def test_write_report_is_atomic_with_a_unique_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "numerics.md"
    (tmp_path / "numerics.md.tmp").write_text("someone else's temporary")
    monkeypatch.setattr(report, "render", lambda checks: "# report\n")
    monkeypatch.setattr(report.CrossChecks, "run",
                        classmethod(lambda cls, quick=False: cls(quick=quick)))
    report.write_report(target, quick=True)
    assert target.read_text() == "# report\n"
    # the old writer used PATH.tmp itself; the atomic one leaves it (and nothing else) alone
    assert _listing(tmp_path) == ["numerics.md", "numerics.md.tmp"]
    assert (tmp_path / "numerics.md.tmp").read_text() == "someone else's temporary"


@pytest.mark.parametrize("option", ["--csv", "--plot"])
@pytest.mark.parametrize("where", ["directory", "missing parent"])
def test_scenario_bad_output_exits_2_before_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    option: str, where: str,
) -> None:
    import spectral_edge.numerics.scenarios

    monkeypatch.setattr(spectral_edge.numerics.scenarios, "run_scenario", _fail_if_run)
    target = tmp_path if where == "directory" else tmp_path / "missing" / "out.file"
    before = _listing(tmp_path)
    assert cli.main(["simulate", "plateau", option, str(target)]) == 2
    _assert_one_error_line(capsys, option)
    assert _listing(tmp_path) == before


def test_scenario_plot_with_unknown_format_exits_2_before_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import spectral_edge.numerics.scenarios

    monkeypatch.setattr(spectral_edge.numerics.scenarios, "run_scenario", _fail_if_run)
    assert cli.main(["simulate", "plateau", "--plot", str(tmp_path / "fig.xyz")]) == 2
    _assert_one_error_line(capsys, ".xyz")
    assert _listing(tmp_path) == []


def test_scenario_outputs_are_written_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src, dst):  # the atomic writer's last step: a temporary file replaces the target
        replaced.append((Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    png, csv = tmp_path / "s.png", tmp_path / "s.csv"
    assert cli.main(["simulate", "plateau", "--plot", str(png), "--csv", str(csv)]) == 0
    assert sorted(dst for _, dst in replaced) == ["s.csv", "s.png"]
    assert all(src.startswith(f".{dst}.") and src.endswith(".tmp") for src, dst in replaced)
    assert len(pd.read_csv(csv)) > 10 and png.stat().st_size > 10_000
    assert _listing(tmp_path) == ["s.csv", "s.png"]


def test_unknown_scenario_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["simulate", "no-such-scenario"]) == 2
    _assert_one_error_line(capsys, "unknown scenario")


def test_simulate_and_derive_never_import_torch() -> None:
    code = (
        "import sys\n"
        "from spectral_edge.validation import cli\n"
        "assert cli.main(['simulate', '--list']) == 0\n"
        "import spectral_edge.validation.cli.derive, spectral_edge.validation.cli.simulate\n"
        "import spectral_edge.numerics.report, spectral_edge.numerics.figures\n"
        "import spectral_edge.theory.render, spectral_edge.theory.lambdified\n"
        "assert cli.main(['derive', '--only', 'R9']) == 0\n"
        "print('torch' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout
