"""The README and docs: short, every relative link resolves, every command they show parses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from journeygym.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _relative_links(page: Path) -> list[str]:
    return [target for target in LINK.findall(page.read_text()) if not re.match(r"[a-z]+:", target) and not target.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    missing = [target for target in _relative_links(page) if not (page.parent / target.split("#")[0]).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def test_the_readme_is_short_and_its_table_cells_too():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    cells = [cell for line in text.splitlines() if line.startswith("|") for cell in re.split(r"(?<!\\)\|", line)]
    assert max(len(cell) for cell in cells) <= 300


def _readme_subcommands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return sorted(set(re.findall(r"journeygym ([a-z][a-z-]+)", text)))


@pytest.mark.parametrize("subcommand", _readme_subcommands())
def test_every_command_in_the_readme_parses(subcommand, capsys):
    try:
        status = main([subcommand, "--help"])
    except SystemExit as stop:
        status = stop.code
    assert status == 0, f"journeygym {subcommand} --help exited {status}"
    assert "usage" in capsys.readouterr().out.lower()
