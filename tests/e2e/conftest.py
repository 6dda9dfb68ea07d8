"""A real policy and an edited version of it, for the end-to-end change tests."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

INSERTED = ("3.10 We may terminate your access to the API Services at any time, for any reason and without notice, "
            "and you waive any right to bring or join a class action against us.")
REWORDED_BEFORE = "4.1 We have the right to adjust or terminate part or all of the services"
REWORDED_AFTER = "4.1 We have the right to adjust, suspend or permanently terminate part or all of the services"
REMOVED_START = "2.9 Please note that we may send you information"
MOVED_START = "ALL DISCLAIMERS, INDEMNITIES AND EXCLUSIONS"
_SECTION_NUMBER = re.compile(r"^(\d+)(\.\d+)?(\.?)(?=\s)", re.MULTILINE)


def _renumber(text: str) -> str:
    """Every section number one up: "1. Definitions" → "2. Definitions", "4.1" → "5.1", "Article 13" → "Article 14"."""
    text = _SECTION_NUMBER.sub(lambda m: f"{int(m.group(1)) + 1}{m.group(2) or ''}{m.group(3)}", text)
    return re.sub(r"Article (\d+)", lambda m: f"Article {int(m.group(1)) + 1}", text)


def edit_policy(text: str) -> str:
    """A clause inserted, one removed, one reworded, one moved, every section renumbered, plus cosmetic edits."""
    paragraphs = text.split("\n\n")
    moved = next(p for p in paragraphs if p.startswith(MOVED_START))
    paragraphs.remove(moved)
    paragraphs = [p for p in paragraphs if not p.startswith(REMOVED_START)]
    paragraphs.append(moved)
    edited = "\n\n".join(paragraphs)
    lines = edited.split("\n")
    last_of_3 = max(i for i, line in enumerate(lines) if line.startswith("3.9 "))
    lines.insert(last_of_3 + 1, "\n" + INSERTED)
    edited = "\n".join(lines).replace(REWORDED_BEFORE, REWORDED_AFTER)
    return cosmetic_edit(_renumber(edited))


def cosmetic_edit(text: str) -> str:
    """Edits that change nothing a reader relies on: the page's own date, spacing, punctuation."""
    text = re.sub(r"Release Date: [\d-]+", "Release Date: 2025-1-15", text)
    text = text.replace("Thank you for using the API Paid Services of Kling AI!",
                        "Thank you for using the API Paid Services of Kling AI.")
    return text.replace("you should read and comply with", "you should read  and comply with", 1)


def as_html(text: str) -> bytes:
    """The policy as a web page: numbered section titles as headings, everything else as paragraphs."""
    blocks = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        tag = "h2" if re.match(r"^\d+\. \S", line) and len(line) < 80 else "p"
        blocks.append(f"<{tag}>{html.escape(line)}</{tag}>")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Terms of API Paid Service</title></head>"
            "<body><nav><a href='/'>Home</a></nav><main>" + "\n".join(blocks) + "</main></body></html>")
    return page.encode("utf-8")


@pytest.fixture
def policy(shared: Path) -> str:
    """Kling AI's Terms of API Paid Service (reference/seeds/002_…), a real policy of about 7,000 words."""
    return next((shared / "reference/seeds").glob("002_*")).read_text(encoding="utf-8")
