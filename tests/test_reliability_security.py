"""Reliability, second pass (issue 20): what we write and delete. No file we open for
writing follows a link planted in a run directory; only our own temporaries are removed,
only where we wrote them; run names stay inside their root; no command writes over an
input file or a run's own files; results get the permissions the umask gives."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from reliability_helpers import QUIET, assert_refused, snapshot

from spectral_edge.common import atomic
from spectral_edge.common.errors import InputError
from spectral_edge.validation.cli import main
from spectral_edge.validation.runs import grid, rundir

R = ["train", "--out", "{ws}/run", "--resume", *QUIET]


def test_a_lock_symlink_is_refused_and_its_target_untouched(ws: Path, capsys) -> None:
    victim = ws / "victim.txt"
    victim.write_text("precious")
    (ws / "run" / ".lock").symlink_to(victim)
    assert_refused(ws, R, ["lock file", ".lock"], capsys)
    assert victim.read_text() == "precious"


def test_a_dangling_lock_symlink_creates_nothing(ws: Path, capsys) -> None:
    (ws / "run" / ".lock").symlink_to(ws / "created-by-us")
    assert_refused(ws, R, ["lock file"], capsys)
    assert not (ws / "created-by-us").exists()


def test_a_fifo_lock_is_refused_without_blocking(ws: Path, capsys) -> None:
    os.mkfifo(ws / "run" / ".lock")
    assert_refused(ws, R, ["lock file"], capsys)


def test_a_directory_lock_is_refused(ws: Path, capsys) -> None:
    (ws / "run" / ".lock").mkdir()
    assert_refused(ws, R, [".lock"], capsys)


@pytest.mark.parametrize("sub", ["plots", "checkpoints"])
def test_a_linked_subfolder_is_refused(ws: Path, sub: str, capsys) -> None:
    (ws / "elsewhere").mkdir()
    (ws / "run" / sub).unlink(missing_ok=True) if (ws / "run" / sub).is_symlink() else None
    if (ws / "run" / sub).is_dir():
        pytest.skip(f"the run already has {sub}/")
    (ws / "run" / sub).symlink_to(ws / "elsewhere")
    assert_refused(ws, R, [sub, "not a plain directory"], capsys)


def test_a_regular_lock_left_by_a_killed_run_is_reused(ws: Path) -> None:
    (ws / "run" / ".lock").write_text("12345")
    assert main(R[:1] + [R[1], str(ws / "run"), *R[3:]]) == 0
    assert not (ws / "run" / ".lock").exists()


def test_only_our_own_temporaries_are_removed(ws: Path) -> None:
    run = ws / "run"
    mine = [run / "sub" / "deep" / ".thesis.tmp", run / ".notes.tmp",
            run / ".thesis.txt.abcd1234.tmp", run / "sub" / ".spectra.csv.abcd1234.tmp"]
    for p in mine:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("user data")
    ours = [run / ".spectra.csv.abcd1234.tmp", run / ".checkpoint.pt.zz_99abc.tmp"]
    for p in ours:
        p.write_text("half")
    assert main(["train", "--out", str(run), "--resume", *QUIET]) == 0
    assert all(p.read_text() == "user data" for p in mine)
    assert not any(p.exists() for p in ours)


def test_a_new_run_in_a_user_folder_keeps_the_users_files(ws: Path) -> None:
    user = ws / "userdir"
    keep = [user / "sub" / "deep" / ".thesis.tmp", user / ".draft.md.abcdefgh.tmp"]
    for p in keep:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("user data")
    assert main(["train", "--config", str(ws / "tiny.json"), "--out", str(user), *QUIET]) == 0
    assert all(p.read_text() == "user data" for p in keep)


def test_resume_on_a_folder_without_a_run_is_refused(ws: Path, capsys) -> None:
    (ws / "userdir").mkdir()
    (ws / "userdir" / "notes.txt").write_text("mine")
    assert_refused(ws, ["train", "--out", "{ws}/userdir", "--resume", *QUIET],
                   ["--resume", "holds no run"], capsys)


@pytest.mark.parametrize("out", ["", "  "])
def test_train_out_empty_is_refused(ws: Path, out: str, capsys) -> None:
    assert_refused(ws, ["train", "--config", "{ws}/tiny.json", "--out", out, *QUIET],
                   ["--out"], capsys)


def test_sweep_names_are_sanitised_and_stay_inside_the_root(tmp_path: Path) -> None:
    items = grid.grid({}, {"task": ["modadd"], "steps": [5],
                           "monitor_select": ["attention,weight|/../../../escaped", "all"]})
    for item in items:
        assert "/" not in item.name and not item.name.startswith(".")
        assert grid.inside(tmp_path, item.name).parent == tmp_path
    for bad in ("..", "../x", "a/../../b"):
        with pytest.raises(InputError, match="outside"):
            grid.inside(tmp_path, bad)


@pytest.mark.parametrize(("argv", "needles"), [
    (["report", "{ws}", "--out", "{ws}/run/config.md"], ["--out", "config.json"]),
    (["report", "{ws}", "--out", "{ws}/run/summary.md"], ["--out", "summary.json"]),
    (["report", "{ws}", "--out", "{ws}/card.json"], ["--out", ".md"]),
    (["analyze", "{ws}/run", "--json", "{ws}/run/config.json"], ["--json", "own files"]),
    (["analyze", "{ws}/run", "--json", "{ws}/run/summary.json"], ["--json", "own files"]),
    (["analyze", "{ws}/run", "--plot", "{ws}/run/plots/run.png"], ["--plot", "own files"]),
    (["fit", "{ws}/run", "--json", "{ws}/run/config.json"], ["--json", "own files"]),
], ids=["report-config", "report-summary", "report-json", "analyze-config",
        "analyze-summary", "analyze-plot-run", "fit-config"])
def test_no_command_writes_over_a_runs_own_files(ws: Path, argv: list[str],
                                                 needles: list[str], capsys) -> None:
    assert_refused(ws, argv, needles, capsys)


@pytest.mark.parametrize("flag", ["--json", "--plot"])
def test_analyze_never_writes_over_its_input(ws: Path, flag: str, capsys) -> None:
    src = ws / "f.csv"
    src.write_text("step,sigma_1,sigma_2\n1,2,1\n2,3,1\n")
    assert_refused(ws, ["analyze", "{ws}/f.csv", flag, "{ws}/./f.csv"], [flag, "input"],
                   capsys)


def test_analyze_json_and_plot_must_differ(ws: Path, capsys) -> None:
    (ws / "f.csv").write_text("step,sigma_1,sigma_2\n1,2,1\n2,3,1\n")
    assert_refused(ws, ["analyze", "{ws}/f.csv", "--json", "{ws}/x.png", "--plot",
                        "{ws}/x.png"], ["same file"], capsys)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_results_honour_the_umask(tmp_path: Path, mask: int, mode: int) -> None:
    old = os.umask(mask)
    try:
        atomic.write_text(tmp_path / "r.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.txt").stat().st_mode) == mode


def test_the_writer_replaces_a_planted_link_instead_of_following_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "out.csv").symlink_to(victim)
    atomic.write_text(tmp_path / "out.csv", "result")
    assert victim.read_text() == "precious"
    assert not (tmp_path / "out.csv").is_symlink()


def test_the_kept_checkpoint_is_written_before_checkpoint_pt(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[str] = []
    real = rundir.write_bytes_with

    def record(path, writer):  # noqa: ANN001, ANN202
        written.append(Path(path).name)
        return real(path, writer)

    monkeypatch.setattr(rundir, "write_bytes_with", record)
    argv = ["train", "--config", str(ws / "tiny.json"), "--out", str(ws / "kept"),
            "--keep-checkpoints-every", "5", *QUIET]
    assert main(argv) == 0
    kept = [i for i, n in enumerate(written) if n.startswith("step_")]
    assert kept and all(written[i + 1] == "checkpoint.pt" for i in kept)


def test_is_run_file_and_stale_temporary_names(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert rundir.is_run_file(run / "checkpoints" / "step_10.pt", run)
    assert not rundir.is_run_file(run / "notes" / "step_10.pt", run)
    assert atomic.is_temporary_of(".grams.npz.a_b1c2d3.tmp")
    assert not atomic.is_temporary_of(".grams.npz.tmp")
    before = snapshot(tmp_path)
    assert atomic.remove_stale_temporaries(tmp_path / "missing") == []
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["analyze", "fit"])
def test_analyze_and_fit_do_not_write_through_a_linked_plots_folder(ws: Path, command: str,
                                                                    capsys) -> None:
    (ws / "elsewhere").mkdir()
    if (ws / "run" / "plots").exists():
        pytest.skip("the run has plots/")
    (ws / "run" / "plots").symlink_to(ws / "elsewhere")
    assert_refused(ws, [command, "{ws}/run"], ["plots", "not a plain directory"], capsys)


def test_report_does_not_write_through_a_linked_figure_folder_in_a_run(ws: Path,
                                                                        capsys) -> None:
    (ws / "elsewhere").mkdir()
    (ws / "run" / "scorecard_figures").symlink_to(ws / "elsewhere")
    assert_refused(ws, ["report", "{ws}/run"], ["--out", "link"], capsys)
