"""Fuzzing the external-file readers (issue 20): random CSV and JSON byte strings, each
either read or refused with one ``InputError`` (one line), never another exception; and
the all-windows-at-once statistics equal ``numerics.spectra`` window by window."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spectral_edge.common.errors import InputError
from spectral_edge.numerics.spectra import stability_alpha, window_stats
from spectral_edge.validation.scorecard.analysis import RunData, alpha_proxy
from spectral_edge.validation.scorecard.external import load_spectra_file
from spectral_edge.validation.scorecard.sigma_stats import sigma_stats

DIR = Path(tempfile.mkdtemp(prefix="fuzz_readers_"))
def fast(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(name: str, data: bytes) -> None:
    path = DIR / name
    path.write_bytes(data)
    try:
        run = load_spectra_file(path)
    except InputError as err:
        assert "\n" not in str(err) and str(path) in str(err)
        return
    assert run.external and len(run.spectra) >= 1 and run.W >= 2


CELLS = st.sampled_from(["1", "2", "0", "-1", "1.5", "1e200", "1e-310", "nan", "inf", "",
                         "x", " 3", "2.0", "1e9", "\"4\"", "0x10", "9" * 30])
HEADERS = st.sampled_from(["step", "sigma_1", "sigma_2", "sigma_3", "sigma_10", "P", "eta",
                           "lr", "W", "kstar", "foo", "sigma", "sigma_1", ""])


@st.composite
def csv_text(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(HEADERS, min_size=0, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=7), max_size=5))
    text = "\n".join([",".join(header), *(",".join(r) for r in rows)])
    return (text + draw(st.sampled_from(["\n", "", "\r\n"]))).encode()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**20) | st.floats(allow_nan=True)
    | st.sampled_from(["step", "sigma", "x"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["step", "sigma", "sigma_1", "sigma_2", "P", "eta", "lr", "W",
                         "windows", "other"]), inner, max_size=5),
    max_leaves=20)


@st.composite
def window_json(draw: st.DrawFn) -> bytes:
    """Mostly well-formed windows with one thing wrong, or any JSON value."""
    if draw(st.booleans()):
        return json.dumps(draw(JSON_VALUES)).encode()
    windows = [{"step": draw(st.one_of(st.integers(-2, 50), st.floats(allow_nan=True),
                                       st.text(max_size=2))),
                "sigma": draw(st.lists(st.one_of(st.floats(allow_nan=True),
                                                 st.integers(-3, 3)), max_size=4))}
               for _ in range(draw(st.integers(0, 4)))]
    meta = draw(st.dictionaries(st.sampled_from(["P", "eta", "W", "lr"]), JSON_VALUES,
                                max_size=2))
    return json.dumps(meta | {"windows": windows} if meta else windows).encode()


@fast(250)
@given(st.binary(max_size=200))
def test_random_bytes_as_csv_and_json(data: bytes) -> None:
    _read("b.csv", data)
    _read("b.json", data)


@fast(250)
@given(csv_text())
def test_csv_shaped_text(data: bytes) -> None:
    _read("c.csv", data)


@fast(250)
@given(window_json())
def test_json_shaped_text(data: bytes) -> None:
    _read("j.json", data)


@fast(100)
@given(st.integers(2, 12), st.sampled_from([None, 1, 3, 7, 10**6]),
       st.lists(st.floats(0, 1e6), min_size=12, max_size=12), st.integers(0, 11))
def test_sigma_stats_equal_window_stats(W: int, P: int | None, raw: list[float],
                                        zeros: int) -> None:
    s = -np.sort(-np.asarray(raw[:W]))
    s[W - min(zeros, W - 1):] = 0.0 if zeros else s[W - min(zeros, W - 1):]
    if s[0] < 1e-150:  # the readers refuse a window whose largest σ is below 1e-150
        s[0] = 1.0
    row = sigma_stats(np.array([5]), s[None, :].copy(), P).iloc[0]
    ref = window_stats(np.diag(s**2), P=P or 10**9).as_row()
    for key, want in ref.items():
        if P is None and key in ("P", "nu", "d_crit", "d_crit_textbook", "vacuity"):
            assert pd.isna(row[key])
        elif isinstance(want, str):
            assert row[key] == want, key
        else:
            assert np.isclose(row[key], want, rtol=1e-12, equal_nan=True) or row[key] == want, key


def test_alpha_proxy_equals_stability_alpha_per_window() -> None:
    rng = np.random.default_rng(3)
    sig = -np.sort(-rng.random((20, 5)), axis=1)
    sig[4, 3:] = 0.0
    sig[7, 1] = sig[7, 2]  # a repeated σ: zero separation
    sp = pd.DataFrame({f"sigma_{j + 1}": sig[:, j] for j in range(5)}).assign(W=5)
    got = alpha_proxy(RunData("r", Path("r"), sp))
    lam = sig**2
    assert np.isnan(got[0]).all()
    for i in range(1, len(sig)):
        want = stability_alpha(lam[i], float(np.linalg.norm(lam[i] - lam[i - 1])))
        assert np.allclose(got[i], want, rtol=1e-12)
