"""The static files and catalogs are well formed: a stray brace in app.css silently unstyles every
page after it, and a broken .po entry silently shows English (both happened in a merge)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from hub.web.i18n import LOCALE_DIR
from hub.web.pages import STATIC

COMMENT = re.compile(r"/\*.*?\*/", re.S)
STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def brace_problems(css: str) -> list[str]:
    """Where the braces of a style sheet do not pair up (line numbers of the text without comments)."""
    text = STRING.sub('""', COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), css))
    depth, problems = 0, []
    for number, line in enumerate(text.split("\n"), 1):
        for char in line:
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth < 0:
                problems.append(f"line {number}: '}}' closes nothing")
                depth = 0
        if depth > 2:
            problems.append(f"line {number}: blocks nested {depth} deep (a '}}' missing above?)")
    if depth:
        problems.append(f"end of file: {depth} block(s) never closed")
    return problems


@pytest.mark.parametrize("sheet", sorted(p.name for p in STATIC.glob("*.css")))
def test_style_sheets_pair_their_braces(sheet):
    assert brace_problems((STATIC / sheet).read_text(encoding="utf-8")) == []


def test_the_brace_check_finds_a_missing_brace():
    assert brace_problems("@media (max-width: 1px) {\n  a { color: red; }\nb { color: blue; }\n") != []
    assert brace_problems("a { content: '}'; }\n/* } */\n") == []


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_catalogs_have_no_broken_entries(locale):
    with (Path(LOCALE_DIR) / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale, abort_invalid=True)  # raises on an entry without its msgstr
    assert len(catalog) > 500
