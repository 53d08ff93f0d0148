"""Each prediction P1–P16 on synthetic run directories: one where it must pass, one where it
must fail (and the probe-based ones are not measurable without probe files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_predictions_data import grok_curve, make_run, probes_frame

from spectral_edge.validation.scorecard import predictions as pr
from spectral_edge.validation.scorecard.analysis import load_run

N = 20


def runs(*paths: Path):
    return [load_run(p) for p in paths]


def verdict(pid: str, *paths: Path) -> pr.PredictionResult:
    return pr.PREDICTIONS[pid](runs(*paths))


def test_rule_table_is_complete_and_versioned() -> None:
    assert [r.id for r in pr.RULES] == [f"P{i}" for i in range(1, 17)]
    assert [r.id for r in pr.RULES_V1] == [r.id for r in pr.RULES]
    assert set(pr.PREDICTIONS) == {r.id for r in pr.RULES_V1}
    assert pr.RULES_VERSION == "2.2" and pr.RULE_CHANGES
    ids = {r.id for r in pr.RULES} | {"all"}
    assert all(pid in ids and change and why for pid, change, why in pr.RULE_CHANGES)
    # every version-2 rule is sourced and names its negative control
    assert all(r.source and r.calibration for r in pr.RULES)
    changed = {pid for pid, *_ in pr.RULE_CHANGES}
    for old, new in zip(pr.RULES_V1, pr.RULES, strict=True):  # a changed rule is listed
        assert old.rule == new.rule or new.id in changed, new.id
    table = pr.rules_markdown()
    assert all(f"| {r.id} |" in table for r in pr.RULES)


def test_p1_vacuity(tmp_path: Path) -> None:
    ok = verdict("P1", make_run(tmp_path, "big", P=10**6))
    bad = verdict("P1", make_run(tmp_path, "small", P=10))
    assert ok.verdict == "pass" and ok.value > 5
    assert bad.verdict == "fail" and bad.value < 1 and np.isfinite(bad.value)


def test_p2_few_modes(tmp_path: Path) -> None:
    assert verdict("P2", make_run(tmp_path, "a")).verdict == "pass"
    bad = verdict("P2", make_run(tmp_path, "b", kstar=5))
    assert bad.verdict == "fail" and bad.details["per_run_mode"] == {"b": 5}


def test_p3_optimizer(tmp_path: Path) -> None:
    muon = {"optimizer": "muon"}
    ok = verdict("P3", make_run(tmp_path, "m1", config=muon, kstar=1),
                 make_run(tmp_path, "a1", kstar=2))
    bad = verdict("P3", make_run(tmp_path, "m2", config=muon, kstar=2),
                  make_run(tmp_path, "a2", kstar=1))
    assert ok.verdict == "pass" and bad.verdict == "fail"
    assert verdict("P3", make_run(tmp_path, "a3")).verdict == "not measurable"


def test_p4_krylov(tmp_path: Path) -> None:
    steps = 1000 + 100 * np.arange(5)
    good = pd.DataFrame({"step": steps, "kstar_weighted": 1, "K_eta": 2, "eta_eff": 0.1})
    bad = good.assign(kstar_weighted=3, K_eta=1)
    assert verdict("P4", make_run(tmp_path, "a", probe_windows=good)).verdict == "pass"
    res = verdict("P4", make_run(tmp_path, "b", probe_windows=bad))
    assert res.verdict == "fail" and res.value == 0.0


def test_p5_three_phases(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    R = np.r_[np.full(7, 1.2), np.full(7, 3.0), np.full(6, 1.2)] + 0.01 * rng.normal(size=N)
    ok = verdict("P5", make_run(tmp_path, "a", R=R, test_loss=5 - R))
    assert ok.verdict == "pass" and ok.details["phase_fraction"] == 1.0 and ok.value > 0.9
    R2 = np.linspace(1.2, 3.0, N) + 0.01 * rng.normal(size=N)
    bad = verdict("P5", make_run(tmp_path, "b", R=R2, test_loss=1 + rng.normal(size=N)))
    assert bad.verdict == "fail" and bad.details["phase_fraction"] == 0.0


def test_p6_alpha_hierarchy(tmp_path: Path) -> None:
    good = np.tile([0.9, 0.3, 0.3] + [0.0] * 7, (N, 1))
    ok = verdict("P6", make_run(tmp_path, "a", alpha=good))
    assert ok.verdict == "pass" and ok.value == pytest.approx(0.9)
    assert "proxy" in ok.details and "exact" in ok.details
    bad = verdict("P6", make_run(tmp_path, "b", alpha=good[:, ::-1]))
    assert bad.verdict == "fail"


def _gap_flow_probes(shuffle: bool) -> pd.DataFrame:
    """Two modes evolved by R1 (Euler, one snapshot per window, η = 0.1, ω = 0, W = 10)."""
    n, eta, W = 30, 0.1, 10
    h = np.array([0.5, 2.0])
    t = np.arange(n)
    gamma = np.c_[1 + 0.5 * np.sin(t / 3), 0.2 + 0.1 * np.cos(t / 2)]
    d = np.zeros((n, 2))
    d[0] = [4.0, 1.0]
    for i in range(n - 1):
        d[i + 1] = d[i] + eta * (-h * d[i] + W * gamma[i] / d[i])
    if shuffle:
        gamma = np.random.default_rng(0).permutation(gamma[:, ::-1] * 5)
    steps = 1000 + 100 * t
    return probes_frame(steps, 2, sigma=d, h=np.tile(h, (n, 1)), Gamma=gamma,
                        N=np.zeros((n, 2)))


def test_p7_gap_flow_with_measured_terms(tmp_path: Path) -> None:
    cfg = {"wd": 0.0}
    ok = verdict("P7", make_run(tmp_path, "a", n=30, config=cfg,
                                probes=_gap_flow_probes(False)))
    assert ok.verdict == "pass" and ok.value == pytest.approx(1.0, abs=1e-9)
    assert ok.details["n_pairs"] == 29
    bad = verdict("P7", make_run(tmp_path, "b", n=30, config=cfg,
                                 probes=_gap_flow_probes(True)))
    assert bad.verdict == "fail" and bad.value < 0.5


def test_p7_reads_the_next_window_from_spectra_when_it_was_not_probed(tmp_path: Path) -> None:
    full = _gap_flow_probes(False)
    d = full.pivot_table(index="step", columns="mode", values="sigma").to_numpy()
    sigma = np.c_[d, np.tile(np.linspace(0.05, 0.01, 8), (len(d), 1))]
    every_other = full[(full["step"] // 100) % 2 == 0]
    run = make_run(tmp_path, "sparse", n=30, sigma=sigma, config={"wd": 0.0},
                   probes=every_other)
    ok = verdict("P7", run)
    assert ok.verdict == "pass" and ok.value == pytest.approx(1.0, abs=1e-9)
    assert ok.details["n_pairs"] == 15
    # a spectra.csv whose next windows disagree with the probed σ breaks the fit
    wrong = make_run(tmp_path, "wrong", n=30, sigma=sigma[::-1].copy(), config={"wd": 0.0},
                     probes=every_other)
    assert verdict("P7", wrong).value < 0.5


def test_p8_precedes_grokking(tmp_path: Path) -> None:
    g23 = np.linspace(10.0, 1.0, N)
    on = make_run(tmp_path, "on", test_acc=grok_curve(N, 10), g23_lambda=g23)
    off = make_run(tmp_path, "off", config={"wd": 0.0})
    off_grok = make_run(tmp_path, "offg", config={"wd": 0.0}, test_acc=grok_curve(N, 5))
    ok = verdict("P8", on, off)
    assert ok.verdict == "pass" and ok.value > 1.5
    assert set(ok.details["declines"]) == {"spec_full", "spec_adaptive", "patience_full",
                                           "patience_adaptive"}
    assert verdict("P8", on, off_grok).verdict == "fail"
    flat = make_run(tmp_path, "flat", test_acc=grok_curve(N, 10), g23_lambda=np.ones(N))
    assert verdict("P8", flat, off).verdict == "fail"


def test_p9_kstar_at_grok(tmp_path: Path) -> None:
    k = np.ones(N, int)
    ok = verdict("P9", make_run(tmp_path, "a", test_acc=grok_curve(N, 10), kstar_weighted=k))
    k2 = k.copy()
    k2[10] = 2
    bad = verdict("P9", make_run(tmp_path, "b", test_acc=grok_curve(N, 10), kstar_weighted=k2))
    assert ok.verdict == "pass" and bad.verdict == "fail" and bad.value == 0.0


def _decomp_probes(sign: float) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    alpha = rng.uniform(0.1, 1.0, (N, 10))
    gt, gv = rng.normal(size=(N, 10)), rng.normal(size=(N, 10))
    steps = 1000 + 100 * np.arange(N)
    probes = probes_frame(steps, 10, G_train=gt, G_val=gv, abl_dloss=sign * alpha * gt * gv)
    return probes, alpha


def test_p10_loss_decomposition(tmp_path: Path) -> None:
    probes, alpha = _decomp_probes(1.0)
    ok = verdict("P10", make_run(tmp_path, "a", probes=probes, alpha=alpha))
    assert ok.verdict == "pass" and ok.value == pytest.approx(1.0)
    probes, alpha = _decomp_probes(-1.0)
    bad = verdict("P10", make_run(tmp_path, "b", probes=probes, alpha=alpha))
    assert bad.verdict == "fail" and bad.value == pytest.approx(-1.0)


def test_p11_gap_maximality(tmp_path: Path) -> None:
    steps = 1000 + 100 * np.arange(5)

    def probes(across: float) -> pd.DataFrame:
        frame = probes_frame(steps, 3, mix_dloss=np.zeros((5, 3)))
        frame["mix_pair"] = np.tile(["dominant", "across", "bulk"], 5)
        frame["mix_dloss"] = np.where(frame["mix_pair"] == "across", across, 0.01)
        return frame

    ok = verdict("P11", make_run(tmp_path, "a", probes=probes(1.0)))
    bad = verdict("P11", make_run(tmp_path, "b", probes=probes(0.05)))
    assert ok.verdict == "pass" and ok.value == pytest.approx(100.0)
    assert bad.verdict == "fail" and bad.value == pytest.approx(5.0)


def test_p12_adiabatic(tmp_path: Path) -> None:
    A = np.full(N, 0.01)
    A[10] = 1.0
    forget = np.full(N, 0.01)
    forget[15:] = 50.0
    grokking = make_run(tmp_path, "g", test_acc=grok_curve(N, 10), A=A)
    forgetting = make_run(tmp_path, "f", config={"forget_step": 2400}, A=forget)
    ok = verdict("P12", grokking, forgetting)
    assert ok.verdict == "pass"
    partial = verdict("P12", grokking)
    assert partial.verdict == "not measurable" and "forgetting" in partial.reason
    A_far = A.copy()
    A_far[0] = 5.0
    bad = verdict("P12", make_run(tmp_path, "b", test_acc=grok_curve(N, 10), A=A_far),
                  forgetting)
    assert bad.verdict == "fail"


def test_p13_lifecycle(tmp_path: Path) -> None:
    steps = 1000 + 100 * np.arange(N)

    def probes(after: float) -> pd.DataFrame:
        frac = np.where(steps[:, None] < 2000, 0.9, after) * np.ones((N, 2))
        return probes_frame(steps, 2, grad_energy_frac=frac)

    ok = verdict("P13", make_run(tmp_path, "a", test_acc=grok_curve(N, 10), probes=probes(0.1)))
    bad = verdict("P13", make_run(tmp_path, "b", test_acc=grok_curve(N, 10),
                                  probes=probes(0.5)))
    assert ok.verdict == "pass" and ok.value == pytest.approx(0.9)
    assert bad.verdict == "fail"


def test_p14_sketch(tmp_path: Path) -> None:
    sigma = np.tile(np.r_[10.0, np.linspace(3.0, 1.0, 9)], (N, 1))
    exact = make_run(tmp_path, "exact", sigma=sigma)
    close = make_run(tmp_path, "close", sigma=sigma * 1.01,
                     config={"sketch_dim": 100, "probe_every": None})  # probes: exact only
    far = make_run(tmp_path / "x", "far", sigma=sigma * 1.3, config={"sketch_dim": 100})
    ok = verdict("P14", exact, close)
    assert ok.verdict == "pass" and ok.value == pytest.approx(0.01)
    assert ok.details["ratio_error"]["value"] == pytest.approx(0.0, abs=1e-12)
    bad = verdict("P14", exact, far)
    assert bad.verdict == "fail" and bad.value == pytest.approx(0.3)


def test_p15_edge_ablation(tmp_path: Path) -> None:
    steps = 1000 + 100 * np.arange(5)
    good = pd.DataFrame({"step": steps, "abl_edge_dacc": -0.5, "abl_rand_dacc_mean": 0.001})
    ok = verdict("P15", make_run(tmp_path, "a", probe_windows=good))
    bad = verdict("P15", make_run(tmp_path, "b",
                                  probe_windows=good.assign(abl_rand_dacc_mean=0.05)))
    assert ok.verdict == "pass" and ok.value == pytest.approx(500.0)
    assert bad.verdict == "fail" and bad.value == pytest.approx(10.0)


def test_p16_steady_state(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    steps = 1000 + 100 * np.arange(N)
    gamma = rng.uniform(0.5, 2.0, (N, 5))
    h = rng.uniform(0.1, 3.0, (N, 5))
    steady = np.sqrt(10 * gamma / (h + 1.0))
    ok = verdict("P16", make_run(tmp_path, "a", probes=probes_frame(
        steps, 5, sigma=steady, Gamma=gamma, h=h)))
    bad = verdict("P16", make_run(tmp_path, "b", probes=probes_frame(
        steps, 5, sigma=1 / steady, Gamma=gamma, h=h)))
    assert ok.verdict == "pass" and ok.value == pytest.approx(1.0)
    assert bad.verdict == "fail" and bad.value == pytest.approx(-1.0)


@pytest.mark.parametrize("pid", ["P4", "P7", "P10", "P11", "P13", "P15", "P16"])
def test_probe_predictions_not_measurable_without_probe_files(tmp_path: Path, pid: str) -> None:
    res = verdict(pid, make_run(tmp_path, "a"))
    assert res.verdict == "not measurable" and ".csv" in res.reason


def test_evaluate_is_deterministic(tmp_path: Path) -> None:
    path = make_run(tmp_path, "a", test_acc=grok_curve(N, 10),
                    R=1.5 + np.random.default_rng(0).normal(size=N) ** 2)
    first = [r.as_dict() for r in pr.evaluate(runs(path))]
    second = [r.as_dict() for r in pr.evaluate(runs(path))]
    assert repr(first) == repr(second)
    assert len(first) == 16


def test_predictions_doc_prints_the_rule_table() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "predictions.md").read_text()
    assert pr.rules_markdown() in doc
    assert f"version `RULES_VERSION = \"{pr.RULES_VERSION}\"`" in doc


def test_sketched_and_forgetting_runs_only_feed_p12_and_p14(tmp_path: Path) -> None:
    plain = make_run(tmp_path, "plain")
    sketched = make_run(tmp_path, "sk", config={"sketch_dim": 100}, kstar=5)
    res = {r.id: r for r in pr.evaluate(runs(plain, sketched))}
    assert res["P2"].verdict == "pass" and res["P2"].runs == ("plain",)
    assert res["P14"].verdict == "pass" and set(res["P14"].runs) == {"plain", "sk"}


def test_every_scorecard_module_imports_without_torch() -> None:
    """The scorecard, its predictions and the column schema never need torch: every module
    imports in a fresh interpreter where importing torch raises. (``sys.modules['torch'] =
    None`` would block it too, but SciPy's array-API helpers then read ``torch.Tensor``
    from the ``None`` entry and fail on their own.)"""
    import subprocess
    import sys

    import spectral_edge.validation.scorecard as scorecard

    folder = Path(scorecard.__file__).parent
    names = ["spectral_edge.numerics.columns"] + sorted(
        ".".join(["spectral_edge.validation.scorecard",
                  *p.relative_to(folder).with_suffix("").parts]).removesuffix(".__init__")
        for p in folder.rglob("*.py")
    )
    code = (
        "import importlib, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError('torch is blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for name in {names!r}:\n    importlib.import_module(name)\n"
        "assert 'torch' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(names) >= 14
