"""reports/subscribers.py: the subscribers YAML file, validated like the catalog (file:line: what)."""

from __future__ import annotations

import json

import pytest

from reports.subscribers import NoSubscribersError, SubscribersError, load_subscribers, require_subscribers


def test_entries_load_with_defaults(tmp_path):
    path = tmp_path / "subscribers.yaml"
    path.write_text(
        "subscribers:\n"
        "  - email: legal@example.com\n    name: Legal\n    platforms: [kling-ai]\n    min_severity: High\n"
        "  - email: ops@example.com\n    alerts: false\n",
        encoding="utf-8",
    )
    loaded = load_subscribers(path, platforms={"kling-ai", "spotify"})
    legal, ops = loaded.subscribers
    assert legal.platforms == ("kling-ai",) and legal.min_severity == "high"
    assert legal.follows("kling-ai") and not legal.follows("spotify")
    assert legal.wants_severity("high") and not legal.wants_severity("medium")
    assert ops.follows("anything") and ops.wants_severity("low") and ops.wants_severity(None) and ops.digest
    assert [s.email for s in loaded.for_alerts()] == ["legal@example.com"]


def test_every_bad_entry_is_one_line_naming_file_and_line(tmp_path):
    path = tmp_path / "subscribers.yaml"
    path.write_text(
        "subscribers:\n"
        "  - email: legal@example.com\n"
        "  - email: not-an-address\n"
        "  - email: x@example.com\n    min_severity: severe\n"
        "  - email: y@example.com\n    colour: blue\n"
        "  - email: z@example.com\n    platforms: [kling-ai, myspace]\n",
        encoding="utf-8",
    )
    with pytest.raises(SubscribersError) as caught:
        load_subscribers(path, platforms={"kling-ai"})
    problems = caught.value.problems
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:{line}" for line in (3, 4, 6, 8)]
    assert "'email'" in problems[0] and "min_severity" in problems[1] and "colour" in problems[2]
    assert "unknown platform 'myspace'" in problems[3] and "kling-ai" in problems[3]
    assert all("\n" not in p for p in problems)


def test_missing_file(tmp_path):
    assert load_subscribers(tmp_path / "absent.yaml").subscribers == ()
    with pytest.raises(SubscribersError, match="absent.yaml does not exist"):
        require_subscribers(tmp_path / "absent.yaml", receiving="alerts")


def test_a_file_listing_no_one_who_receives_an_email_is_refused_for_that_email(tmp_path):
    path = tmp_path / "subscribers.yaml"
    path.write_text("subscribers:\n  - {email: legal@example.com, alerts: false}\n", encoding="utf-8")
    with pytest.raises(NoSubscribersError) as refused:
        require_subscribers(path, receiving="alerts")
    assert refused.value.problems == [f"SUBSCRIBERS (CLAUSEWATCH_SUBSCRIBERS): {path} lists no alert subscribers "
                                      "(its 1 subscriber(s) all have alerts: false); nothing was marked alerted"]
    assert [s.email for s in require_subscribers(path, receiving="digest").for_digest()] == ["legal@example.com"]
    path.write_text("", encoding="utf-8")
    with pytest.raises(NoSubscribersError, match=r"lists no digest subscribers; nothing was sent$"):
        require_subscribers(path, receiving="digest")


def test_plain_list_form_and_invalid_yaml(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("- email: a@example.com\n", encoding="utf-8")
    assert load_subscribers(path).subscribers[0].email == "a@example.com"
    path.write_text("subscribers:\n  - email: a@example.com\n  - [\n", encoding="utf-8")
    with pytest.raises(SubscribersError, match=r"s\.yaml:\d+: not valid YAML"):
        load_subscribers(path)


def test_a_mistyped_top_level_key_is_refused_at_its_line_not_ignored(tmp_path):
    # Those listed under "subscriber:" would never be emailed, and nothing would say so.
    path = tmp_path / "s.yaml"
    path.write_text("subscribers:\n  - email: a@example.com\nsubscriber:\n  - email: legal@example.com\n",
                    encoding="utf-8")
    with pytest.raises(SubscribersError) as raised:
        load_subscribers(path)
    assert raised.value.problems == [f"{path}:3: unknown key 'subscriber' (known: 'subscribers')"]


@pytest.mark.parametrize(("text", "key"), [
    # A second `subscribers:` list replaced the first unsaid, and its readers lost every email (review of 2026-12-01).
    ("subscribers:\n  - email: a@example.com\n    min_severity: high\nsubscribers:\n  - email: b@example.com\n",
     "subscribers"),
    ("subscribers:\n  - email: a@example.com\n    min_severity: high\n    min_severity: low\n", "min_severity"),
])
def test_a_key_given_twice_is_refused_at_its_line(tmp_path, text: str, key: str):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SubscribersError, match=rf"s\.yaml:4: not valid YAML: duplicate key '{key}'"):
        load_subscribers(path)


def test_an_alias_bomb_is_refused_at_its_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("subscribers:\n  - email: a@example.com\n"
                    "a: &a [lol, lol, lol]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\n", encoding="utf-8")
    with pytest.raises(SubscribersError, match=r"s\.yaml:5: not valid YAML: the alias \*b refers to a part"):
        load_subscribers(path)
    path.write_text("- &one {email: a@example.com}\n- *one\n", encoding="utf-8")  # an alias to plain data is fine
    assert [s.email for s in load_subscribers(path).subscribers] == ["a@example.com"] * 2


@pytest.mark.parametrize("value", ["javascript:alert(1)", "not a url", "ftp://example.com/unsubscribe", "https://",
                                   "mailto:nobody", "https://example.com/u\nBcc: victim@example.com",
                                   "https://example.com/<u>", 42])
def test_an_unsubscribe_that_is_not_an_http_or_mailto_url_is_refused_at_its_line(tmp_path, value):
    path = tmp_path / "subscribers.yaml"
    written = value if isinstance(value, int) else json.dumps(value)  # a JSON string is a YAML string
    path.write_text(f"subscribers:\n  - email: legal@example.com\n  - email: ops@example.com\n"
                    f"    unsubscribe: {written}\n", encoding="utf-8")
    with pytest.raises(SubscribersError) as refused:
        load_subscribers(path)
    assert refused.value.problems == [
        f"{path}:3: 'unsubscribe' must be an https:, http: or mailto: URL, got {value!r}"]


@pytest.mark.parametrize("value", ["https://example.com/unsubscribe?list=legal", "http://intranet.example/u",
                                   "mailto:unsubscribe@example.com?subject=legal", "MAILTO:a%40example.com"])
def test_an_https_http_or_mailto_unsubscribe_is_kept_as_written(tmp_path, value):
    path = tmp_path / "subscribers.yaml"
    path.write_text(f"- {{email: legal@example.com, unsubscribe: {json.dumps(value)}}}\n", encoding="utf-8")
    assert load_subscribers(path).subscribers[0].unsubscribe == value
