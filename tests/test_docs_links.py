"""Every relative link in README.md and docs/**/*.md reaches a file that exists, and a heading when it names one.

Anchors follow GitHub's rule for heading ids: the heading's text as rendered (code marks, emphasis and link
targets dropped), lowercased, punctuation removed, each space a '-'; a repeated heading gets '-1', '-2', ...
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, ...


def _without_code(text: str) -> str:
    """The page without fenced blocks and inline code, where link-like text is not a link."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """The id GitHub gives a heading with this markdown text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays, its target goes
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"(?<!\w)_+|_+(?!\w)", "", text)  # _emphasis_ marks, not snake_case
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    """Every heading id of a markdown page, repeated headings numbered as GitHub numbers them."""
    seen: Counter[str] = Counter()
    anchors = set()
    for _, heading in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = github_slug(heading)
        anchors.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return anchors


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with each relative link of ``page`` (empty when every link holds); paths from ``root``."""
    problems = []
    for target in _LINK.findall(_without_code(page.read_text(encoding="utf-8"))):
        if _EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / unquote(path_part)).resolve() if path_part else page
        where = f"{page.relative_to(root)}: link ({target})"
        shown = linked.relative_to(root) if linked.is_relative_to(root) else linked
        if not linked.exists():
            problems.append(f"{where}: no file {shown}")
        elif anchor and linked.suffix == ".md" and unquote(anchor).lower() not in anchors_of(linked):
            problems.append(f"{where}: {shown} has no heading with id '{anchor}'")
    return problems


class TestGitHubSlugs:
    @pytest.mark.parametrize(("heading", "slug"), [
        ("Quick start (a fresh machine with Python 3.10–3.12)", "quick-start-a-fresh-machine-with-python-310312"),
        ("The Connect extension's runtime (connect-extension-runner)",
         "the-connect-extensions-runtime-connect-extension-runner"),
        ("1. Install", "1-install"),
        ("`sandbox serve --state` keeps a log", "sandbox-serve---state-keeps-a-log"),
        ("How the **live** audit reads [Commerce](x.md)", "how-the-live-audit-reads-commerce"),
        ("results_and_journal: _emphasis_", "results_and_journal-emphasis"),
    ])
    def test_a_heading_gets_githubs_id(self, heading: str, slug: str) -> None:
        """Lowercase, punctuation dropped, spaces to '-', code and emphasis marks and link targets gone."""
        assert github_slug(heading) == slug

    def test_repeated_headings_are_numbered(self, tmp_path: Path) -> None:
        """The second 'Figures' heading is '#figures-1'."""
        page = tmp_path / "p.md"
        page.write_text("# Figures\n\n```\n# not a heading\n```\n\n## Figures\n")
        assert anchors_of(page) == {"figures", "figures-1"}


class TestBrokenLinksAreFound:
    def test_a_missing_file_and_a_missing_heading_are_reported(self, tmp_path: Path) -> None:
        """The check can fail: a link to no file and one to no heading are both named."""
        (tmp_path / "other.md").write_text("# Present\n")
        page = tmp_path / "page.md"
        page.write_text("[a](other.md#present) [b](gone.md) [c](other.md#absent) `[d](in-code.md)` [e](https://x.y/z)\n")
        problems = broken_links(page, root=tmp_path)
        assert len(problems) == 2 and "no file gone.md" in problems[0] and "id 'absent'" in problems[1]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_reaches_its_file_and_heading(page: Path) -> None:
    """README.md and docs/**/*.md link only to files and headings that exist."""
    assert broken_links(page) == []
