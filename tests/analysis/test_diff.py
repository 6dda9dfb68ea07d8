"""analysis/diff.py: line-then-word diffs."""

from __future__ import annotations

from analysis.diff import DELETE, EQUAL, INSERT, diff_texts, render_unified


def _apply(before: str, diff) -> str:
    """Rebuild the new text from the old one and the diff (checks the diff is faithful)."""
    assert "".join(t for op, t in diff if op != INSERT) == before
    return "".join(t for op, t in diff if op != DELETE)


def test_unchanged_lines_stay_whole_and_changed_words_are_precise():
    before = "1. Intro\n\nWe may suspend your account.\n\n2. Fees\n\nFees are due monthly.\n"
    after = "1. Intro\n\nWe may suspend or terminate your account.\n\n2. Fees\n\nFees are due monthly.\n"
    diff = diff_texts(before, after)
    assert _apply(before, diff) == after
    assert [t.strip() for op, t in diff if op == INSERT] == ["or terminate"]
    assert not [t for op, t in diff if op == DELETE]
    assert diff[0] == (EQUAL, "1. Intro\n\nWe may suspend ")
    assert render_unified(diff).count("+}") == 1


def test_added_and_removed_paragraphs():
    before = "A.\n\nB is removed.\n\nC.\n"
    after = "A.\n\nC.\n\nD is new.\n"
    diff = diff_texts(before, after)
    assert _apply(before, diff) == after
    assert [t for op, t in diff if op == DELETE] == ["B is removed.\n\n"]
    assert [t for op, t in diff if op == INSERT] == ["\nD is new.\n"]


def test_large_policy_diff_is_faithful(shared):
    text = next((shared / "reference/seeds").glob("002_*")).read_text(encoding="utf-8")
    edited = text.replace("Kling AI", "Kling", 7).replace("shall", "must", 20)
    diff = diff_texts(text * 4, edited * 4)
    assert _apply(text * 4, diff) == edited * 4
    assert all(op in (DELETE, EQUAL, INSERT) for op, _ in diff)
