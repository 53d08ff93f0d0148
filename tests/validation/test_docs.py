"""The docs stay true: every CLI subcommand is documented, every linked doc exists."""

from __future__ import annotations

import re
from pathlib import Path

from spectral_edge.validation.cli import build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_subcommand_is_in_the_cli_reference() -> None:
    choices = build_parser()._subparsers._group_actions[0].choices
    text = (DOCS / "cli.md").read_text()
    missing = [name for name in choices if f"| `{name}` |" not in text]
    assert not missing, f"docs/cli.md lacks: {missing}"


def test_links_between_docs_resolve() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]+)?\)", page.read_text()):
            assert (DOCS / target).exists(), f"{page.name} links to missing {target}"


def test_readme_links_resolve() -> None:
    readme = DOCS.parent / "README.md"
    for target in re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", readme.read_text()):
        assert (DOCS.parent / target).exists(), f"README.md links to missing {target}"


def test_spec_keeps_the_section_numbers_the_code_cites() -> None:
    headings = re.findall(r"^## §(\d+) ", (DOCS / "spec.md").read_text(), re.MULTILINE)
    assert headings == [str(n) for n in range(1, 9)]


def _section(text: str, file: str) -> str:
    start = text.index(f"## `{file}`")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _documented_names(section: str) -> set[str]:
    """Backticked names in the first cell of each table row (``a..b`` ranges: ``a``)."""
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names |= {n.split("..")[0] for n in re.findall(r"`([^`]+)`", first)}
    return names


def test_run_directory_columns_are_the_schema() -> None:
    """docs/run-directory.md prints numerics/columns.py: the spectra and metrics tables
    verbatim, the probe tables the same column names (numbered families as ``name_1``)."""
    from spectral_edge.numerics import columns

    text = (DOCS / "run-directory.md").read_text()
    for file in ("spectra.csv", "metrics.csv"):
        assert columns.markdown_table(file) in _section(text, file), file
    for file in ("probes.csv", "probe_windows.csv"):
        expected = {n.replace("<j>", "1") for n in columns.names(file)}
        assert _documented_names(_section(text, file)) == expected, file
