"""Reliability, second pass (issue 20): input files and flags. Every external spectra field
is validated with the file, row and field named; a run directory missing a column, with a
corrupt file or an odd JSON value is one clear line; outputs are checked before any work;
every size-like flag has an upper bound; the library refuses bad arguments at construction.

Each CLI case: exit 2, one stderr line naming the file/field/flag, no traceback, nothing
under the workspace changed (bytes and modification times)."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from reliability_helpers import QUIET, assert_refused

from spectral_edge.common.errors import InputError
from spectral_edge.validation.cli import main
from spectral_edge.validation.integrations import _common
from spectral_edge.validation.monitor import GramMonitor

H = "step,sigma_1,sigma_2,sigma_3\n"
GOOD = H + "1,4,2,1\n2,4,2,1\n"
# (id, file name, content, what the line must name besides the file)
EXTERNAL: list[tuple[str, str, str | bytes, list[str]]] = [
    ("P-zero", "s.csv", "step,sigma_1,sigma_2,P\n1,2,1,0\n", ["row 1", "field P"]),
    ("P-fraction", "s.csv", "step,sigma_1,sigma_2,P\n1,2,1,2.5\n", ["row 1", "field P"]),
    ("P-varies", "s.csv", "step,sigma_1,sigma_2,P\n1,2,1,5\n2,2,1,6\n", ["row 2", "field P"]),
    ("P-huge", "s.csv", "step,sigma_1,sigma_2,P\n1,2,1,1e30\n", ["field P"]),
    ("step-fraction", "s.csv", H + "1.5,4,2,1\n", ["row 1", "field step"]),
    ("step-negative", "s.csv", H + "-1,4,2,1\n", ["row 1", "field step"]),
    ("step-back", "s.csv", H + "2,4,2,1\n1,4,2,1\n", ["row 2", "field step"]),
    ("step-repeat", "s.csv", H + "2,4,2,1\n2,4,2,1\n", ["row 2", "field step"]),
    ("step-text", "s.csv", H + "ten,4,2,1\n", ["row 1", "field step"]),
    ("step-missing-column", "s.csv", "sigma_1,sigma_2\n4,2\n", ["step"]),
    ("sigma-gap", "s.csv", "step,sigma_1,sigma_3\n1,2,1\n", ["sigma_2 is missing"]),
    ("sigma-one", "s.csv", "step,sigma_1\n1,2\n", ["W >= 2"]),
    ("sigma-text", "s.csv", H + "1,4,two,1\n", ["row 1", "field sigma_2"]),
    ("sigma-negative", "s.csv", H + "1,4,-2,1\n", ["row 1", "field sigma_2"]),
    ("sigma-nan", "s.csv", H + "1,4,nan,1\n", ["row 1", "field sigma_2"]),
    ("sigma-inf", "s.csv", H + "1,inf,2,1\n", ["row 1", "field sigma_1"]),
    ("sigma-1e200", "s.csv", H + "1,1e200,2,1\n", ["row 1", "field sigma_1", "1e+150"]),
    ("sigma-1e-310", "s.csv", H + "1,1e-310,0,0\n", ["row 1", "field sigma_1", "1e-150"]),
    ("sigma-all-zero", "s.csv", H + "1,0,0,0\n", ["row 1", "all σ are zero"]),
    ("eta-negative", "s.csv", "step,sigma_1,sigma_2,eta\n1,2,1,-1\n", ["row 1", "field eta"]),
    ("lr-zero", "s.csv", "step,sigma_1,sigma_2,lr\n1,2,1,0\n", ["row 1", "field lr"]),
    ("eta-and-lr", "s.csv", "step,sigma_1,sigma_2,eta,lr\n1,2,1,1,1\n", ["field lr"]),
    ("W-mismatch", "s.csv", "step,sigma_1,sigma_2,W\n1,2,1,3\n", ["field W"]),
    ("W-fraction", "s.csv", "step,sigma_1,sigma_2,W\n1,2,1,2.5\n", ["field W"]),
    ("unknown-column", "s.csv", "step,sigma_1,sigma_2,foo\n1,2,1,3\n", ["'foo'"]),
    ("duplicate-column", "s.csv", "step,sigma_1,sigma_2,sigma_2\n1,2,1,1\n", ["sigma_2.1"]),
    ("cut-mid-row", "s.csv", H + "1,4,2,1\n2,4,2", ["line end"]),
    ("cut-row-short", "s.csv", H + "1,4,2,1\n2,4\n", ["row 2", "field sigma_2", "missing"]),
    ("row-too-long", "s.csv", H + "1,4,2,1,9\n", ["more fields than the header"]),
    ("empty", "s.csv", "", ["empty"]),
    ("header-only", "s.csv", H, ["no windows"]),
    ("not-utf8", "s.csv", b"step,sigma_1,sigma_2\n1,\xff\xfe,1\n", ["CSV"]),
    ("too-wide", "s.csv", "step," + ",".join(f"sigma_{j}" for j in range(1, 4099)) + "\n"
     + "1," + ",".join(["1"] * 4098) + "\n", ["4096"]),
    ("json-nested", "s.json", "[" * 100_000 + "]" * 100_000, ["not valid JSON"]),
    ("json-list-of-ints", "s.json", "[1]", ["row 1", "list of windows"]),
    ("json-empty-list", "s.json", "[]", ["list of windows"]),
    ("json-unknown-key", "s.json", '{"P": 5, "windowz": []}', ["'windowz'"]),
    ("json-sigma-lengths", "s.json", '[{"step": 1, "sigma": [2, 1]}, {"step": 2, "sigma": [2]}]',
     ["row 2", "field sigma"]),
    ("json-sigma-not-list", "s.json", '[{"step": 1, "sigma": 3}]', ["row 1", "field sigma"]),
    ("json-bool", "s.json", '[{"step": 1, "sigma_1": true, "sigma_2": 1}]',
     ["row 1", "field sigma_1"]),
    ("json-nan", "s.json", '[{"step": 1, "sigma": [NaN, 1]}]', ["row 1", "field sigma_1"]),
    ("json-step-text", "s.json", '[{"step": "ten", "sigma": [2, 1]}]', ["row 1", "field step"]),
    ("json-P-both", "s.json", '{"P": 5, "windows": [{"step": 1, "P": 5, "sigma": [2, 1]}]}',
     ["field P", "both"]),
    ("json-P-text", "s.json", '{"P": "many", "windows": [{"step": 1, "sigma": [2, 1]}]}',
     ["field P"]),
    ("json-eta-negative", "s.json", '{"eta": -1, "windows": [{"step": 1, "sigma": [2, 1]}]}',
     ["field eta"]),
    ("json-not-utf8", "s.json", b'[{"step": 1, "sigma": [2, 1]}]\xff', ["not valid JSON"]),
    ("suffix-txt", "s.txt", GOOD, [".csv or .json"]),
    ("json-duplicate-key", "s.json", '[{"step": 1, "step": 2, "sigma": [2, 1]}]',
     ["'step' appears twice"]),
]


@pytest.mark.parametrize(("name", "content", "needles"),
                         [pytest.param(n, c, w, id=i) for i, n, c, w in EXTERNAL])
def test_external_spectra_fields_are_validated(ws: Path, name: str, content: str | bytes,
                                               needles: list[str], capsys) -> None:
    path = ws / "in" / name
    path.parent.mkdir()
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert_refused(ws, ["analyze", str(path)], [str(path), *needles], capsys)


def _drop_column(name: str, column: str):  # noqa: ANN202
    def prepare(ws: Path) -> None:
        p = ws / "run" / name
        lines = p.read_text().splitlines()
        i = lines[0].split(",").index(column)
        p.write_text("\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != i)
                               for line in lines) + "\n")
    return prepare


def _write(rel: str, content: str | bytes):  # noqa: ANN202
    def prepare(ws: Path) -> None:
        (ws / rel).write_bytes(content if isinstance(content, bytes) else content.encode())
    return prepare


def _config(**fields: object):  # noqa: ANN202
    def prepare(ws: Path) -> None:
        p = ws / "run" / "config.json"
        p.write_text(json.dumps(json.loads(p.read_text()) | fields))
    return prepare


def _cell(name: str, column: str, value: str):  # noqa: ANN202
    def prepare(ws: Path) -> None:
        p = ws / "run" / name
        frame = pd.read_csv(p)
        frame[column] = frame[column].astype(object)
        frame.loc[len(frame) - 1, column] = value
        frame.to_csv(p, index=False)
    return prepare


RUN_CASES = [
    ("spectra-no-W", ["analyze", "{ws}/run"], _drop_column("spectra.csv", "W"),
     ["spectra.csv", "no W column"]),
    ("spectra-no-step", ["fit", "{ws}/run"], _drop_column("spectra.csv", "step"),
     ["spectra.csv", "no step column"]),
    ("spectra-no-kstar", ["report", "{ws}"], _drop_column("spectra.csv", "kstar"),
     ["spectra.csv", "no kstar column"]),
    ("metrics-no-step", ["analyze", "{ws}/run"], _drop_column("metrics.csv", "step"),
     ["metrics.csv", "no step column"]),
    ("metrics-text-step", ["report", "{ws}"], _write("run/metrics.csv", "step,test_acc\nx,1\n"),
     ["metrics.csv", "row 1", "step"]),
    ("spectra-kstar-negative", ["analyze", "{ws}/run"], _cell("spectra.csv", "kstar", "-1"),
     ["spectra.csv", "column kstar"]),
    ("spectra-kstar-huge", ["report", "{ws}"], _cell("spectra.csv", "kstar", "1e30"),
     ["spectra.csv", "column kstar"]),
    ("spectra-W-fraction", ["fit", "{ws}/run"], _cell("spectra.csv", "W", "2.5"),
     ["spectra.csv", "column W"]),
    ("spectra-step-huge", ["analyze", "{ws}/run"], _cell("spectra.csv", "step", "1e30"),
     ["spectra.csv", "column step"]),
    ("spectra-step-back", ["analyze", "{ws}/run"], _cell("spectra.csv", "step", "0"),
     ["spectra.csv", "column step"]),
    ("spectra-sigma-negative", ["analyze", "{ws}/run"], _cell("spectra.csv", "sigma_1", "-5"),
     ["spectra.csv", "column sigma_1"]),
    ("metrics-step-fraction", ["analyze", "{ws}/run"], _cell("metrics.csv", "step", "2.5"),
     ["metrics.csv", "column step"]),
    ("grams-corrupt", ["analyze", "{ws}/run"], _write("run/grams.npz", b"PK\x03\x04garbage"),
     ["grams.npz", "unreadable"]),
    ("config-nested", ["analyze", "{ws}/run"], _write("run/config.json", "[" * 50_000),
     ["config.json", "not valid JSON"]),
    ("summary-list", ["report", "{ws}"], _write("run/summary.json", "[1]"),
     ["summary.json", "JSON object"]),
    ("reproduce-list", ["report", "{ws}"], _write("reproduce.json", "[1]"),
     ["reproduce.json", "JSON object"]),
    ("reproduce-notes", ["report", "{ws}"], _write("reproduce.json", '{"notes": 5}'),
     ["reproduce.json", "field notes"]),
    ("reproduce-wall", ["report", "{ws}"], _write("reproduce.json", '{"wall_s": "long"}'),
     ["reproduce.json", "field wall_s"]),
    ("reproduce-calls", ["report", "{ws}"],
     _write("reproduce.json", '{"calls": [{"runs": 1, "workers": -2, "wall_s": 3}]}'),
     ["reproduce.json", "field calls"]),
    ("config-stride-0", ["fit", "{ws}/run"], _config(stride=0), ["config.json", "field stride"]),
    ("config-lr-text", ["report", "{ws}"], _config(lr="fast"), ["config.json", "field lr"]),
    ("report-file", ["report", "{ws}/tiny.json"], None, ["DIR", "tiny.json"]),
    ("report-missing", ["report", "{ws}/nope"], None, ["DIR", "nope"]),
    ("report-out-empty", ["report", "{ws}", "--out", ""], None, ["--out"]),
    ("analyze-empty-path", ["analyze", ""], None, ["PATH"]),
    ("analyze-missing", ["analyze", "{ws}/nope.csv"], None, ["nope.csv"]),
    ("analyze-json-empty", ["analyze", "{ws}/run", "--json", ""], None, ["--json"]),
    ("analyze-plot-format", ["analyze", "{ws}/run", "--plot", "{ws}/x.xyz"], None, ["x.xyz"]),
    ("fit-frac-2", ["fit", "{ws}/run", "--frac", "2"], None, ["--frac"]),
    ("fit-frac-nan", ["fit", "{ws}/run", "--frac", "nan"], None, ["--frac"]),
    ("config-dev-zero", ["train", "--config", "/dev/zero", "--out", "{ws}/n"], None,
     ["/dev/zero", "not a regular file"]),
    ("config-fifo", ["train", "--config", "{ws}/fifo.json", "--out", "{ws}/n"],
     lambda ws: os.mkfifo(ws / "fifo.json"), ["fifo.json", "not a regular file"]),
    ("config-duplicate-key", ["train", "--config", "{ws}/d.json", "--out", "{ws}/n"],
     _write("d.json", '{"lr": 0.1, "lr": 10}'), ["d.json", "'lr' appears twice"]),
    ("run-config-duplicate-key", ["analyze", "{ws}/run"],
     _write("run/summary.json", '{"status": "a", "status": "b"}'), ["summary.json", "twice"]),
    ("analyze-dev-null", ["analyze", "/dev/null"], None, ["/dev/null", "neither"]),
    ("analyze-fifo", ["analyze", "{ws}/f.csv"], lambda ws: os.mkfifo(ws / "f.csv"),
     ["f.csv", "neither"]),
]


@pytest.mark.parametrize(("argv", "prepare", "needles"),
                         [pytest.param(a, p, n, id=i) for i, a, p, n in RUN_CASES])
def test_run_directory_files_and_outputs(ws: Path, argv: list[str], prepare, needles,
                                         capsys) -> None:
    if prepare is not None:
        prepare(ws)
    assert_refused(ws, argv, needles, capsys)


FLAG_CASES = [
    ("probe-hess-k-huge", ["probe", "{ws}/run", "--hess-k", "100000"], ["--hess-k", "100"]),
    ("probe-at-many", ["probe", "{ws}/run", *["--at", "5"] * 1001], ["--at"]),
    ("probe-at-huge", ["probe", "{ws}/run", "--at", str(2**70)], ["--at"]),
    ("train-probe-hess-k", ["train", "--config", "{ws}/tiny.json", "--out", "{ws}/n",
                            "--probe-hess-k", "100000", *QUIET], ["probe_hess_k"]),
    ("train-window-huge", ["train", "--config", "{ws}/tiny.json", "--out", "{ws}/n",
                           "--window", "5000", *QUIET], ["config field window"]),
    ("train-steps-huge", ["train", "--config", "{ws}/tiny.json", "--out", "{ws}/n",
                          "--steps", str(10**12), *QUIET], ["config field steps"]),
    ("train-batch-huge", ["train", "--config", "{ws}/tiny.json", "--out", "{ws}/n",
                          "--batch-size", str(2**40), *QUIET], ["config field batch_size"]),
    ("train-d-model-huge", ["train", "--config", "{ws}/tiny.json", "--out", "{ws}/n",
                            "--d-model", str(10**7), *QUIET], ["config field d_model"]),
    ("sweep-workers-huge", ["sweep", "--out", "{ws}/sw", "--workers", "100000"], ["--workers"]),
    ("sweep-out-file", ["sweep", "--out", "{ws}/tiny.json", "--steps", "5"], ["--out"]),
    ("sweep-out-empty", ["sweep", "--out", "", "--steps", "5"], ["--out"]),
    ("reproduce-workers-huge", ["reproduce", "--out", "{ws}/r", "--workers", "100000"],
     ["--workers"]),
    ("reproduce-out-file", ["reproduce", "--out", "{ws}/tiny.json", "--quick"], ["--out"]),
    ("reproduce-list-and-out", ["reproduce", "--list", "--out", "{ws}/r"], ["--list"]),
    ("demo-steps-huge", ["demo", "--out", "{ws}/d", "--steps", str(10**9)], ["--steps"]),
    ("demo-every-0", ["demo", "--out", "{ws}/d", "--every", "0"], ["--every"]),
    ("demo-out-file", ["demo", "--out", "{ws}/tiny.json", "--steps", "5000"], ["--out"]),
    ("simulate-list-and-plot", ["simulate", "--list", "--plot", "{ws}/x.png"], ["--list",
                                                                              "--plot"]),
    ("simulate-list-and-name", ["simulate", "plateau", "--list"], ["--list", "NAME"]),
    ("simulate-crosscheck-and-csv", ["simulate", "--crosscheck", "{ws}/r.md", "--csv",
                                     "{ws}/x.csv"], ["--csv"]),
]


@pytest.mark.parametrize(("argv", "needles"),
                         [pytest.param(a, n, id=i) for i, a, n in FLAG_CASES])
def test_size_flags_are_bounded_and_outputs_checked_first(ws: Path, argv, needles,
                                                          capsys) -> None:
    start = time.perf_counter()
    assert_refused(ws, argv, needles, capsys)
    assert time.perf_counter() - start < 20  # refused before any training


# ------------------------------------------------------------------ what analyze writes


def test_analyze_writes_strict_json_with_kstar_per_window(ws: Path, capsys) -> None:
    src = ws / "data" / "mine.csv"
    src.parent.mkdir()
    src.write_text("step,sigma_1,sigma_2,sigma_3\n10,4,2,1\n20,4,3.9,1\n30,5,1,0.9\n")
    before = sorted(p.name for p in src.parent.iterdir())
    assert main(["analyze", str(src)]) == 0
    out = capsys.readouterr().out
    assert "k* per window" in out
    assert sorted(p.name for p in src.parent.iterdir()) == before  # nothing beside the input
    text = (ws / "mine.analysis.json").read_text()
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert [s["kstar"] for s in data["kstar_per_window"]] == [1, 2, 1]
    assert (ws / "mine.analysis.png").exists()


def test_analyze_a_run_directory_writes_inside_it(ws: Path) -> None:
    assert main(["analyze", str(ws / "run")]) == 0
    json.loads((ws / "run" / "analysis.json").read_text(),
               parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))


def test_report_outside_docs_links_predictions_md_that_exists(ws: Path) -> None:
    out = ws / "elsewhere" / "card.md"
    assert main(["report", str(ws), "--out", str(out)]) == 0
    text = out.read_text()
    link = text.split("[predictions.md](")[1].split(")")[0]
    assert link.startswith("http") or (out.parent / link).resolve().exists()
    json.loads(out.with_suffix(".json").read_text(),
               parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))


def test_report_lists_a_stray_spectra_file_and_scores_the_runs(ws: Path, capsys) -> None:
    (ws / "stray").mkdir()
    (ws / "stray" / "spectra.csv").write_text("step,sigma_1,sigma_2\n1,2,1\n")
    assert main(["report", str(ws)]) == 0
    assert "stray" in (ws / "scorecard.md").read_text()
    assert "DegenerateDataWarning" not in capsys.readouterr().err


def test_a_big_external_file_is_read_in_seconds(tmp_path: Path) -> None:
    n, W = 100_000, 10
    rng = np.random.default_rng(0)
    sigma = -np.sort(-rng.random((n, W)), axis=1) + 0.01
    rows = np.column_stack([np.arange(n) * 10, sigma])
    path = tmp_path / "big.csv"
    np.savetxt(path, rows, delimiter=",", header="step," + ",".join(
        f"sigma_{j + 1}" for j in range(W)), comments="", fmt=["%d"] + ["%.6g"] * W)
    from spectral_edge.validation.scorecard.analysis import load
    from spectral_edge.validation.scorecard.report import analyze

    start = time.perf_counter()
    summary, results = analyze(load(path))
    assert summary["windows"] == n and len(results) == 4
    assert time.perf_counter() - start < 15  # 400k windows: ~5 s on the 2-core machine


# ------------------------------------------------------------------------------ library


def test_monitor_refuses_aliased_and_empty_parameters() -> None:
    w = torch.zeros(6, requires_grad=True)
    with pytest.raises(InputError, match="share memory"):
        GramMonitor([w, w.view(2, 3)], window=2)
    with pytest.raises(InputError, match="share memory"):
        GramMonitor([w[:4], w[2:]], window=2)
    with pytest.raises(InputError, match="P = 0"):
        GramMonitor([torch.zeros(0, requires_grad=True)], window=2)
    GramMonitor([w[:3], w[3:]], window=2)  # disjoint slices are fine


@pytest.mark.parametrize("content", [b"garbage" * 10, b"", b"PK\x03\x04nope"])
def test_load_state_raises_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state.pt"
    path.write_bytes(content)
    mon = GramMonitor(torch.nn.Linear(3, 2), window=2)
    with pytest.raises(InputError, match="monitor state"):
        _common.load_state(mon, path)


class _Pickled:
    pass


def test_load_state_refuses_pickled_objects(tmp_path: Path) -> None:
    path = tmp_path / "state.pt"
    torch.save({"x": _Pickled()}, path)
    with pytest.raises(InputError, match="monitor state"):
        _common.load_state(GramMonitor(torch.nn.Linear(3, 2), window=2), path)


CALLBACK_CASES = [
    ({"window": 1}, "window"),
    ({"window": 2.5}, "window"),
    ({"stride": 0}, "stride"),
    ({"select": "(["}, "select"),
    ({"select": 5}, "select"),
    ({"kstar_methd": "ratio"}, "kstar_methd"),
    ({"kstar_method": "best"}, "kstar_method"),
    ({"sketch_dim": 1}, "sketch_dim"),
    ({"lr": math.nan}, "lr"),
    ({"log_top": 0}, "log_top"),
    ({"params": 5}, "params"),
]


@pytest.mark.parametrize("framework", ["hf", "lightning"])
@pytest.mark.parametrize(("kwargs", "needle"), CALLBACK_CASES)
def test_callbacks_check_their_arguments_at_construction(framework: str, kwargs: dict,
                                                         needle: str) -> None:
    if framework == "hf":
        pytest.importorskip("transformers")
        from spectral_edge.validation.integrations.hf import HFGramMonitorCallback as Callback
    else:
        pytest.importorskip("lightning")
        from spectral_edge.validation.integrations.lightning import (
            LightningGramMonitorCallback as Callback,
        )
    with pytest.raises(InputError, match=needle) as info:
        Callback(**kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [None, 5, object()])
def test_public_analyze_refuses_what_is_not_a_run(bad: object) -> None:
    import spectral_edge

    with pytest.raises(InputError, match="analyze needs"):
        spectral_edge.analyze(bad)


def test_public_analyze_takes_a_path(ws: Path) -> None:
    import spectral_edge

    summary, _ = spectral_edge.analyze(ws / "run")
    assert summary["windows"] >= 1
    with pytest.raises(InputError, match="neither"):
        spectral_edge.analyze(ws / "nope")


@pytest.mark.parametrize(("config", "out"), [({"task": "modadd"}, "x"), (None, "x"),
                                             ("cfg", "x"), ("RC", None), ("RC", "  ")])
def test_public_train_refuses_wrong_types(tmp_path: Path, config: object, out: object) -> None:
    import spectral_edge

    if config == "RC":
        config = spectral_edge.RunConfig.protocol("modadd")
    with pytest.raises(InputError, match="config must be|out_dir must be"):
        spectral_edge.train(config, out if out != "x" else tmp_path / "x")
    assert not (tmp_path / "x").exists()
