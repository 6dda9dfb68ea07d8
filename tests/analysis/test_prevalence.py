"""Prevalence labels and their display string (SPEC §5)."""

from __future__ import annotations

import pytest

from analysis.prevalence import Prevalence, PrevalenceError, prevalence_label


@pytest.mark.parametrize(
    ("count", "total", "label"),
    [
        (1, 325, "Unique"),
        (1, 1, "Unique"),
        (0, 10, "Unique"),
        (2, 325, "Rare"),
        (16, 325, "Rare"),  # 4.9%
        (17, 325, "Uncommon"),  # 5.2%
        (26, 325, "Uncommon"),
        (81, 325, "Uncommon"),  # 24.9%
        (82, 325, "Common"),  # 25.2%
        (243, 325, "Common"),  # 74.8%
        (244, 325, "Widespread"),  # 75.1%
        (325, 325, "Widespread"),
        (3, 4, "Widespread"),
        (2, 4, "Common"),
    ],
)
def test_labels_follow_the_published_scale(count, total, label):
    assert prevalence_label(count, total) == label


@pytest.mark.parametrize(("count", "total"), [(5, 3), (-1, 3), (1, -2)])
def test_impossible_counts_are_refused_with_the_numbers(count, total):
    with pytest.raises(PrevalenceError, match=f"{count} of {total}"):
        prevalence_label(count, total)


def test_display_reads_like_the_record_pages():
    assert Prevalence("arbitration", 26, 325).display == "Uncommon · 26 of 325 platforms"
    assert Prevalence("arbitration", 1, 1).display == "Unique · 1 of 1 platform"
    assert Prevalence("tracking", 0, 0).share == 0.0
