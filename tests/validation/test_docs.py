"""The docs stay true: every CLI subcommand is documented, every linked doc exists."""

from __future__ import annotations

import re
from pathlib import Path

from validation.cli import build_parser

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_subcommand_is_in_the_cli_reference() -> None:
    choices = build_parser()._subparsers._group_actions[0].choices
    text = (DOCS / "cli.md").read_text()
    missing = [name for name in choices if f"| `{name}` |" not in text]
    assert not missing, f"docs/cli.md lacks: {missing}"


def test_links_between_docs_resolve() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([\w.-]+\.md)\)", page.read_text()):
            assert (DOCS / target).exists(), f"{page.name} links to missing {target}"
