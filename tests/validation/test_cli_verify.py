"""End-to-end tests of ``spectral-edge verify``."""

from __future__ import annotations

import json

import pytest

from spectral_edge.validation import cli


def test_only_r10_as_expected(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", "--only", "R10", "--examples", "15"]) == 0
    out = capsys.readouterr().out
    assert "R10 scaling  [R10]  expected held: held (15 examples" in out
    assert "[control: d_c quadruples]  [R10]  expected falsified: falsified" in out
    assert "2/2 outcomes as expected (seed 0, 15 examples each)" in out


def test_json_is_strict_and_complete(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", "--only", "R11,R8", "--examples", "20", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(c))
    assert doc["ok"] is True
    rows = doc["consequences"]
    assert {r["result"] for r in rows} == {"R8", "R11"} and len(rows) == 5
    for row in rows:
        assert set(row) == {"name", "result", "expected", "outcome", "examples",
                            "counterexample"}
        assert row["outcome"] == row["expected"]
        assert (row["counterexample"] is None) == (row["outcome"] == "held")


def test_an_unexpected_outcome_exits_1(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    import dataclasses

    from spectral_edge.numerics import consequences as cq

    vacuous = tuple(dataclasses.replace(c, holds=lambda _: True) for c in cq.CONSEQUENCES
                    if c.result == "R10")
    monkeypatch.setattr(cq, "CONSEQUENCES", vacuous)
    assert cli.main(["verify", "--only", "R10", "--examples", "20"]) == 1
    assert "UNEXPECTED" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--examples", "0"], ["--examples", "100001"],
                                  ["--seed", "-1"], ["--only", "R99"]])
def test_bad_input_exits_2(argv, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("spectral-edge: error:")
