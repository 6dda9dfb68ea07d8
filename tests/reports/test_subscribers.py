"""reports/subscribers.py: the subscribers YAML file."""

from __future__ import annotations

import pytest

from reports.subscribers import SubscribersError, load_subscribers


def test_entries_load_with_defaults_and_bad_ones_are_reported(tmp_path):
    path = tmp_path / "subscribers.yaml"
    path.write_text(
        "subscribers:\n"
        "  - email: legal@example.com\n    name: Legal\n    platforms: [kling-ai]\n    min_severity: High\n"
        "  - email: not-an-address\n"
        "  - email: ops@example.com\n    alerts: false\n"
        "  - email: x@example.com\n    min_severity: severe\n"
        "  - email: y@example.com\n    colour: blue\n",
        encoding="utf-8",
    )
    loaded = load_subscribers(path)
    assert [s.email for s in loaded.subscribers] == ["legal@example.com", "ops@example.com"]
    legal, ops = loaded.subscribers
    assert legal.platforms == ("kling-ai",) and legal.min_severity == "high"
    assert legal.follows("kling-ai") and not legal.follows("spotify")
    assert legal.wants_severity("high") and not legal.wants_severity("medium")
    assert ops.follows("anything") and ops.wants_severity("low") and ops.wants_severity(None) and ops.digest
    assert [s.email for s in loaded.for_alerts()] == ["legal@example.com"]
    assert len(loaded.errors) == 3
    assert "subscriber #2" in loaded.errors[0] and "'email'" in loaded.errors[0]
    assert "min_severity" in loaded.errors[1]
    assert "colour" in loaded.errors[2]


def test_missing_file_means_nobody(tmp_path):
    assert load_subscribers(tmp_path / "absent.yaml").subscribers == ()


def test_plain_list_form_and_invalid_yaml(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("- email: a@example.com\n", encoding="utf-8")
    assert load_subscribers(path).subscribers[0].email == "a@example.com"
    path.write_text("subscribers: [\n", encoding="utf-8")
    with pytest.raises(SubscribersError, match="not valid YAML"):
        load_subscribers(path)
