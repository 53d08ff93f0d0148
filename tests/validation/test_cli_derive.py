"""End-to-end tests of ``spectral-edge derive``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from spectral_edge.theory.derivation import Claim, Derivation, Step
from spectral_edge.theory.registry import IDS
from spectral_edge.validation import cli
from spectral_edge.validation.cli import derive


def test_only_one_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", "--only", "R2"]) == 0
    out = capsys.readouterr().out
    assert "R2  Gap flow  [axioms: A1, A2, A3]  derived" in out
    assert "check: passed (10/10 claims hold)" in out
    assert "R1  " not in out  # only the requested result is printed
    assert "1/1 checks passed" in out


def test_comma_list_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", "--only", "r10,R9", "--steps"]) == 0
    out = capsys.readouterr().out
    assert out.index("R10  ") < out.index("R9  ")
    assert " 1. cited (BGN 2012)" in out
    assert "2/2 checks passed" in out


def test_unknown_id_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", "--only", "R99"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spectral-edge: error: unknown derivation 'R99'")


def test_latex_writes_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "docs" / "theory.md"
    assert cli.main(["derive", "--only", "R10", "--latex", "--out", str(out_file)]) == 0
    text = out_file.read_text(encoding="utf-8")
    assert text.startswith("# Spectral edge theory")
    for axiom_id in ("A1", "A2", "A3"):
        assert f"### {axiom_id} — " in text
    assert "## R10 — BBP threshold and its vacuity" in text
    assert "$$ d_{c}^{4} = P W \\nu^{4} $$" in text
    assert "Check: passed." in text
    assert f"wrote {out_file}" in capsys.readouterr().out
    assert not list(out_file.parent.glob(".*.tmp"))  # atomic write leaves no temp file


def test_failing_check_exits_1(monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    a = sp.Symbol("a", positive=True)
    broken = Derivation("R1", "broken", ("A1",), (Step("a", a),), a,
                        (Claim("a equals a + 1", a, a + 1),))
    monkeypatch.setattr(derive, "derivation", lambda key: broken)
    assert cli.main(["derive", "--only", "R1"]) == 1
    out = capsys.readouterr().out
    assert "check: FAILED (0/1 claims hold)" in out
    assert "fails: a equals a + 1" in out
    assert "residual: -1" in out
    assert "0/1 checks passed" in out


def test_a_raising_derivation_is_reported_and_the_rest_run(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real = derive.derivation

    def flaky(key):
        if key == "R9":
            raise RuntimeError("boom")
        return real(key)

    monkeypatch.setattr(derive, "derivation", flaky)
    assert cli.main(["derive", "--only", "R9,R10"]) == 1
    out = capsys.readouterr().out
    assert "R9  error: RuntimeError: boom" in out
    assert "R10  BBP threshold" in out and "1/2 checks passed, 1 raised" in out


def test_axioms_variant(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", "--axioms", "a3-continuous", "--only", "R1,R5"]) == 0
    out = capsys.readouterr().out
    assert "survives: R5" in out and "changes: R1" in out
    assert "R1 under a3-continuous:" in out and "_j = " in out and "\\dot" not in out


def test_noiseless_variant_prints_its_own_forms(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", "--axioms", "a2-noiseless", "--only", "R2,R4"]) == 0
    out = capsys.readouterr().out
    r2 = out[out.index("R2 under"):out.index("R4 under")]
    r4 = out[out.index("R4 under"):]
    assert "βₖ" not in r2 and "output beta = 0" in r2  # no β/g term when β = 0
    assert "output g_star = c/(eta*hw)" in r4 and "√" not in r4.split("output")[0]


@pytest.mark.parametrize("argv", [["--out", "x.md"], ["--dependencies", "--axioms", "a2-noiseless"],
                                  ["--latex", "--axioms", "a2-noiseless"],
                                  ["--json", "--steps"], ["--json", "--latex"],
                                  ["--axioms", "a2-noiseless", "--jobs", "2"]])
def test_contradictory_flags_exit_2(argv, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("spectral-edge: error: --")


def test_json_round_trips_through_sympify(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from spectral_edge.theory.registry import derivation
    from spectral_edge.theory.render import plain

    assert cli.main(["derive", "--json"]) == 0
    text = capsys.readouterr().out
    assert text.isascii()
    records = json.loads(text)["results"]
    assert [r["id"] for r in records] == [f"R{k}" for k in range(1, 13)]
    spec = (Path(__file__).resolve().parents[2] / "docs" / "spec.md").read_text("utf-8")
    for rec in records:
        assert rec["check"] == "passed" and rec["status"] in ("derived", "partly stated")
        result = plain(derivation(rec["id"]).result)
        lhs, rhs = sp.sympify(rec["lhs"]), sp.sympify(rec["rhs"])
        if isinstance(result, sp.Rel):
            assert (lhs, rhs) == (result.lhs, result.rhs)
        else:
            assert rhs == result
        for sym in (lhs.free_symbols | rhs.free_symbols) - {s for s in rhs.free_symbols
                                                            if not isinstance(s, sp.Symbol)}:
            assert f"`{sym.name}`" in spec, f"{sym.name} is not in docs/spec.md's table"


def test_unknown_variant_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", "--axioms", "nope"]) == 2
    assert "unknown axiom variant" in capsys.readouterr().err


def test_dependencies(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", "--only", "R10,R11", "--dependencies"]) == 0
    out = capsys.readouterr().out
    assert "A1.loss" in out and "labels: every label agrees with the audit" in out


def test_committed_docs_are_current() -> None:
    """docs/theory.md is generated; it must match what ``derive --latex`` writes now."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "theory.md"
    if not docs.exists():
        pytest.skip("docs/theory.md not generated in this checkout")
    from spectral_edge.theory.registry import all_derivations
    from spectral_edge.theory.render import theory_markdown

    assert docs.read_text(encoding="utf-8") == theory_markdown(all_derivations())


def _listing(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*"))


@pytest.mark.parametrize("only", [",", "", " ", " , ,"])
def test_only_naming_no_id_exits_2(only: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["derive", "--only", only]) == 2
    captured = capsys.readouterr()
    assert "checks passed" not in captured.out
    err = captured.err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("spectral-edge: error: --only names no derivation")


@pytest.mark.parametrize("where", ["directory", "parent is a file"])
def test_latex_to_a_bad_path_exits_2_before_deriving(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "a_file").write_text("keep")
    target = tmp_path if where == "directory" else tmp_path / "a_file" / "theory.md"

    def no_work(key):
        raise AssertionError("derived although the output path is bad")

    monkeypatch.setattr(derive, "derivation", no_work)
    before = _listing(tmp_path)
    assert cli.main(["derive", "--only", "R10", "--latex", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "--out" in err
    assert _listing(tmp_path) == before


def test_two_processes_print_what_one_prints(capsys: pytest.CaptureFixture[str]) -> None:
    only = ["derive", "--only", "R1,R7,R10"]
    assert cli.main([*only, "--jobs", "1"]) == 0
    one = capsys.readouterr().out.splitlines()[:-1]  # the last line holds the timing
    assert cli.main([*only, "--jobs", "2"]) == 0
    two = capsys.readouterr().out.splitlines()[:-1]
    assert one == two and any(line.startswith("R7") for line in two)
    assert cli.main([*only, "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err


def test_derive_never_imports_torch() -> None:
    """``derive`` (every result) runs without importing torch; the derivations and checks
    (``--json``: no pretty printing) do not import SymPy's units package either (0.2 s,
    pulled in by ``sp.simplify``, ``sp.solve`` and ``rsolve``, replaced by targeted
    simplification for issue 18's timing; the pretty printer imports it for the terminal
    output, which is why the second half prints)."""
    code = ("import contextlib, io, sys\n"
            "from spectral_edge.validation.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['derive', '--json', '--jobs', '1']) == 0\n"
            "assert 'sympy.physics.units' not in sys.modules, 'derive imported sympy units'\n"
            "status = main(['derive', '--jobs', '1'])\n"
            "assert 'torch' not in sys.modules, 'derive imported torch'\n"
            "sys.exit(status)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "12/12 checks passed" in done.stdout


def test_the_second_process_derives_nothing_twice() -> None:
    """The results derived in the second process (``derive --jobs 2``) use none of R1, R2,
    R3: those are cached in the first process, and deriving them again would double the
    critical path."""
    from spectral_edge.theory import gap_flow, noise, signal_flow

    cached = (signal_flow.r1, noise.r3, gap_flow.r2)
    rest = [key for key in IDS if key not in derive._CHAINED]
    assert rest, "every result is chained: nothing runs in parallel"
    for builder in cached:
        builder.cache_clear()
    try:
        assert all(item[3] is None for item in derive._derive_group(rest))
        used = [b.__name__ for b in cached if b.cache_info().currsize]
        assert not used, f"{', '.join(used)} derived again by {', '.join(rest)}"
    finally:
        for builder in cached:
            builder.cache_clear()
