"""Per-visit values: the token shapes, what must never be taken for one, and learning from two texts."""

from __future__ import annotations

import pytest

from analysis.volatile import (
    HELD,
    LEARNED,
    MASK,
    STABLE,
    VolatileKey,
    VolatileRules,
    Watch,
    is_token,
    is_volatile_span,
    mask_volatile_text,
    volatile_difference,
    watch_step,
)


@pytest.mark.parametrize("value", [
    "3f2a9c1e-7b4d-4e2a-9f1c-0a1b2c3d4e5f",      # UUID
    "3F2A9C1E7B4D4E2A9F1C0A1B2C3D4E5F",          # UUID without dashes, upper case
    "9f86d081884c7d65",                          # 64-bit hex
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # SHA-256
    "dGhpcyBpcyBhIHNlc3Npb24gdG9rZW4=",          # base64
    "Xk9_qL2-vT8wYz3RpA7mN1",                    # base64url, 22 chars (128 bits)
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",  # JWT
])
def test_per_visit_token_shapes(value):
    assert is_token(value)


@pytest.mark.parametrize("value", [
    "12345",                      # a short id
    "2",                          # a page number
    "en", "en-US", "pt_BR",       # language codes
    "privacy",                    # a word
    "terms-of-service-agreement", # a slug: letters and hyphens only
    "PrivacyPolicyOverview2024",  # a CamelCase name with a year
    "20240115",                   # a date
    "1234567890123456789",        # a long number (a status id is content)
    "deadbeefcafe",               # short hex
    "/legal/terms/2024-01-15",    # a real path
    "section-3.2",                # an anchor
])
def test_values_that_are_not_tokens(value):
    assert not is_token(value)


@pytest.mark.parametrize("span", ["1234", "1,234", "12:01:44", "2026-11-29 23:14:22", "Nov 29, 2026 at 11:14 PM",
                                  "29/11/2026", "(4,211)", "2026-11-29 …", "3f2a9c1e-7b4d-4e2a-9f1c-0a1b2c3d4e5f"])
def test_volatile_spans(span):
    assert is_volatile_span(span)


@pytest.mark.parametrize("span", ["", "thirty", "30 days", "Ireland", "the laws of Delaware", "US$100 per user"])
def test_spans_with_words_are_never_volatile(span):
    assert not is_volatile_span(span)


def test_link_that_differs_only_in_a_parameter_value_names_the_parameter():
    old = "See [pricing](https://x.com/pricing?plan=pro&r=1873) for fees.\n"
    new = "See [pricing](https://x.com/pricing?plan=pro&r=9921) for fees.\n"
    assert volatile_difference(old, new) == {VolatileKey("param", "r")}


def test_link_fragment_that_varies_is_named():
    old = "See [fees](https://x.com/pricing#v1873).\n"
    new = "See [fees](https://x.com/pricing#v9921).\n"
    assert volatile_difference(old, new) == {VolatileKey("param", "#")}


@pytest.mark.parametrize("old, new", [
    ("See [pricing](https://x.com/pricing?plan=pro).", "See [pricing](https://x.com/plans?plan=pro)."),   # path
    ("See [pricing](https://x.com/pricing?plan=pro).", "See [pricing](https://y.com/pricing?plan=pro)."),  # host
    ("See [pricing](https://x.com/pricing?plan=pro).", "See [pricing](https://x.com/pricing?tier=pro)."),  # name
    ("See [pricing](https://x.com/pricing?r=1).", "See [prices](https://x.com/pricing?r=2)."),            # words too
])
def test_real_link_changes_are_not_volatile(old, new):
    assert volatile_difference(old, new) is None


def test_counter_and_clock_lines_give_templates():
    old = "# Terms\n\nVisits today: 1,204\n\nPage generated at 2026-11-29 23:14:22 UTC.\n"
    new = "# Terms\n\nVisits today: 1,377\n\nPage generated at 2026-11-30 00:02:09 UTC.\n"
    assert volatile_difference(old, new) == {
        VolatileKey("text", "Visits today: {*}"), VolatileKey("text", "Page generated at {*} UTC."),
    }


@pytest.mark.parametrize("old, new", [
    ("You may cancel within 30 days.", "You may cancel within thirty days."),
    ("Governed by the laws of Ireland.", "Governed by the laws of Delaware."),
    ("Line one.\nLine two.", "Line one."),
    ("Same.", "Same."),
])
def test_word_changes_and_equal_texts_are_not_volatile(old, new):
    assert volatile_difference(old, new) is None


def test_a_bare_number_change_looks_volatile_once_learning_needs_repetition():
    # A number with no unit of time or money differs like a counter: it is a
    # candidate, never learned from one pair; the store confirms a template only
    # when the value changes again on consecutive fetches (decision 0016).
    assert volatile_difference("Members online: 30", "Members online: 14") == {
        VolatileKey("text", "Members online: {*}")}


def test_masking_learned_templates_keeps_words_visible():
    rules = VolatileRules(learned_texts=("Visits today: {*}",))
    assert mask_volatile_text("Visits today: 1,377", rules) == f"Visits today: {MASK}"
    assert mask_volatile_text("Visits today: unlimited", rules) == "Visits today: unlimited"


def test_declared_templates_mask_whatever_is_there():
    rules = VolatileRules(texts=("Served by {*}",))
    assert mask_volatile_text("Served by edge-node paris", rules) == f"Served by {MASK}"


def test_uuid_in_text_is_masked_but_not_inside_link_targets():
    line = ("Request 3f2a9c1e-7b4d-4e2a-9f1c-0a1b2c3d4e5f served; "
            "see [doc](https://x.com/d/3f2a9c1e-7b4d-4e2a-9f1c-0a1b2c3d4e5f)")
    assert mask_volatile_text(line, VolatileRules()) == (
        f"Request {MASK} served; see [doc](https://x.com/d/3f2a9c1e-7b4d-4e2a-9f1c-0a1b2c3d4e5f)")


def test_rules_drop_params_by_name_or_shape_and_keep_overrides():
    rules = VolatileRules(params=frozenset({"r"}), learned_texts=("Visits: {*}",))
    assert rules.drops_param("R", "12") and rules.drops_param("id", "3f2a9c1e-7b4d-4e2a-9f1c-0a1b2c3d4e5f")
    assert not rules.drops_param("page", "2") and not rules.drops_param("lang", "en")
    kept = rules.without(frozenset({"r", "Visits: {*}"}))
    assert not kept and not kept.drops_param("r", "12")


def test_watch_holds_then_learns_after_three_consecutive_changes():
    keys = frozenset({VolatileKey("text", "Visits: {*}")})
    verdict, watch = watch_step(Watch(), keys, "a")
    assert verdict == HELD and watch.observations == 1
    verdict, watch = watch_step(watch, keys, "b")
    assert verdict == HELD and watch.observations == 2
    verdict, watch = watch_step(watch, keys, "c")
    assert verdict == LEARNED and watch == Watch()


def test_watch_calls_a_value_served_twice_a_real_edit():
    keys = frozenset({VolatileKey("text", "Refunds within {*} days.")})
    _, watch = watch_step(Watch(), keys, "fourteen")
    assert watch_step(watch, keys, "fourteen") == (STABLE, Watch())


def test_watch_restarts_when_other_places_change():
    _, watch = watch_step(Watch(), frozenset({VolatileKey("param", "r")}), "a")
    verdict, watch = watch_step(watch, frozenset({VolatileKey("param", "s")}), "b")
    assert verdict == HELD and watch.observations == 1


def test_rules_without_shapes_keep_tokens_for_measuring_the_old_extractor():
    off = VolatileRules(shapes=False)
    assert not off.drops_param("id", "3f2a9c1e-7b4d-4e2a-9f1c-0a1b2c3d4e5f")
    assert mask_volatile_text("Request 3f2a9c1e-7b4d-4e2a-9f1c-0a1b2c3d4e5f", off).endswith("4e5f")
    assert VolatileRules.learned_from(frozenset({VolatileKey("param", "r"), VolatileKey("text", "A {*}")})) == (
        VolatileRules(params=frozenset({"r"}), learned_texts=("A {*}",)))


@pytest.mark.parametrize("before, after", [
    ("We give you 30 days notice before changes.", "We give you 14 days notice before changes."),
    ("You must be 16 years old to use the service.", "You must be 13 years old to use the service."),
    ("Our liability is capped at 100 USD.", "Our liability is capped at 50 USD."),
    ("Our liability is capped at US$ 100 in total.", "Our liability is capped at US$ 50 in total."),
    ("A fee of 5 percent of each sale.", "A fee of 7 percent of each sale."),
])
def test_a_number_stating_a_period_or_an_amount_is_a_real_edit_never_held(before, after):
    assert volatile_difference(before, after) is None


def test_a_relative_clock_is_still_volatile():
    assert volatile_difference("Updated 3 days ago", "Updated 4 days ago") is not None


def test_the_hex_run_precheck_never_skips_a_text_the_token_pattern_would_mask():
    import random

    from analysis.volatile import _TEXT_TOKEN, _may_hold_token

    # Hex digits, separators, letters that case-fold oddly (İ ı ſ K) and non-ASCII text.
    alphabet = "0123456789abcdefABCDEF-_/=?&. gGzZ\nİıſKé中\U0001f600"
    draw = random.Random(13)
    texts = ["".join(draw.choice(alphabet) for _ in range(draw.randint(0, 80))) for _ in range(5000)]
    texts += [f"{draw.choice(alphabet)} {''.join(draw.choice('0123456789abcdefABCDEF') for _ in range(32))} é"
              for _ in range(50)]
    texts += ["id 123e4567-e89b-12d3-a456-426614174000 end", "x" + "deadbeef" * 4, "DEADBEEF" * 4, "abcdef12"]
    matched = [text for text in texts if _TEXT_TOKEN.search(text)]
    assert len(matched) >= 50  # the check below has cases to check
    assert all(_may_hold_token(text) for text in matched)
    assert not _may_hold_token("We may share your data with our partners, as described in section 4.")


def test_a_line_with_two_values_varying_apart_is_one_template_with_two_wildcards():
    # One span from the first change to the last held the word "in" between them, and was never learned: the line
    # made a version on every crawl (review of 2026-12-02).
    old = "# T\n\nGenerated at 23:14:05 in 123 ms.\n\nWe may end your account.\n"
    new = "# T\n\nGenerated at 23:15:41 in 98 ms.\n\nWe may end your account.\n"
    assert volatile_difference(old, new) == {VolatileKey("text", "Generated at {*} in {*} ms.")}
    # Stated amounts are never values: a real edit of two terms is a version at once.
    assert volatile_difference("Refunds within 30 days, fees of 10 USD.\n", "Refunds within 60 days, fees of 20 USD.\n") \
        is None
    assert volatile_difference("Generated at 23:14 by Anna in 12 ms\n", "Generated at 23:15 by Bob in 13 ms\n") is None
