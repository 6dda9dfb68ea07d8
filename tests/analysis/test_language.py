"""Language detection on real policies, and what the analyser does with a language it cannot read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analysis.language import (
    SLICE_CHARS,
    SLICES,
    UNDETERMINED,
    bounded_sample,
    detect_language,
    detector_id,
    language_of_all,
    not_analysed_reason,
    readable_text,
)
from analysis.pipeline import Analyzer
from analysis.splitter import split_clauses
from analysis.text import normalize_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"
GERMAN = normalize_text((FIXTURES / "telegram-terms.de.md").read_text(encoding="utf-8"))
FRENCH = normalize_text((FIXTURES / "exemple-confidentialite.fr.md").read_text(encoding="utf-8"))


def test_whole_policies(shared):
    seed = next((shared / "reference" / "seeds").glob("002_*.txt")).read_text(encoding="utf-8")
    assert (detect_language(GERMAN), detect_language(FRENCH), detect_language(seed)) == ("de", "fr", "en")


@pytest.mark.parametrize("text, expected", [
    ("Nutzer aus der Europäischen Union müssen mindestens 18 Jahre alt sein, um sich bei Telegram zu registrieren.",
     "de"),
    ("Les journaux de connexion sont effacés au bout de six mois après la fermeture du compte.", "fr"),
    ("You must be at least 13 years old to use the Services.", "en"),
])
def test_single_clauses(text, expected):
    assert detect_language(text) == expected


def test_links_do_not_make_a_german_page_english():
    text = ("Für Nutzer, die auf Telegram aus der Europäischen Union zugreifen, ist die [Leitlinie]"
            "(https://telegram.org/tos/eu-dsa/terms-of-service-and-privacy-policy-for-users) auch Bestandteil "
            "unserer [Nutzungsbedingungen](https://telegram.org/tos/terms-of-service).")
    assert detect_language(text) == "de"


def test_too_little_text_is_undetermined():
    assert detect_language("§ 3.1 — [x](https://example.com/terms)") == UNDETERMINED
    # MIN_LETTERS (20) letters are enough to ask the model, 19 are not, however many digits surround them.
    assert detect_language("12 Terms and Service here 34 5678") == UNDETERMINED
    assert detect_language("12 Terms and Services here 34 5678") != UNDETERMINED


@pytest.mark.parametrize("text, language", [(GERMAN, "de"), (FRENCH, "fr")])
def test_a_policy_the_model_cannot_read_is_split_but_never_typed(text, language):
    analysis = Analyzer()(None, text)
    assert analysis.language == language
    assert len(analysis.clauses) == len(split_clauses(text)) > 5
    for item in analysis.clauses:
        assert item.classification.types == ()
        assert item.classification.reason == not_analysed_reason(language)
        assert item.classification.confidence == 0.0


def test_an_english_policy_is_classified(shared):
    seed = normalize_text(next((shared / "reference" / "seeds").glob("002_*.txt")).read_text(encoding="utf-8"))
    analysis = Analyzer()(None, seed)
    assert analysis.language == "en"
    assert any(item.classification.types for item in analysis.clauses)


def test_a_model_may_declare_more_languages():
    class Bilingual:
        analyzer_id = "bilingual-1"
        languages = ("en", "de")

        def classify(self, texts, privacy_policy=False):
            from analysis.domain import Classification

            return [Classification(types=("prohibited_content",)) for _ in texts]

    analysis = Analyzer(Bilingual())(None, GERMAN)
    assert all(item.classification.types == ("prohibited_content",) for item in analysis.clauses)


def _seed_texts(shared) -> list[str]:
    return [normalize_text(p.read_text(encoding="utf-8")) for p in sorted((shared / "reference" / "seeds").glob("*.txt"))]


def test_the_sample_names_the_language_the_whole_text_does(shared):
    texts = [GERMAN, FRENCH, *_seed_texts(shared)]
    sampled = [t for t in texts if len(bounded_sample(t)) < len(t)]
    assert len(sampled) >= 3  # long enough that only a sample is read
    assert [detect_language(t) for t in texts] == [language_of_all(t) for t in texts]


def test_the_sample_is_bounded_and_made_of_whole_words():
    long_text = GERMAN * 40
    sample = bounded_sample(long_text)
    assert len(sample) <= SLICES * SLICE_CHARS + SLICES
    words = set(long_text.split())
    assert set(sample.split()) <= words
    assert sample.split()[0] == long_text.split()[0] and sample.split()[-1] == long_text.split()[-1]
    assert bounded_sample(GERMAN[:SLICE_CHARS]) == GERMAN[:SLICE_CHARS]


def test_an_english_banner_above_a_german_policy_does_not_make_it_english(shared):
    banner = _seed_texts(shared)[2][:SLICE_CHARS]
    assert detect_language(banner) == "en"
    assert detect_language(banner + "\n\n" + GERMAN) == "de"


def test_text_the_detector_could_not_be_given_is_still_read():
    # A NUL ended the text CLD3 read ("Tout" alone is not French); a lone surrogate cannot be encoded as UTF-8.
    assert detect_language("Tout\0 le contenu publié sur le service reste la propriété de son auteur.") == "fr"
    assert detect_language("\ud800You must be at least 13 years old to use the Services.") == "en"


def test_codes_are_iso_639_1_where_cld3_keeps_a_withdrawn_one():
    assert detect_language("אתם רשאים להשתמש בשירות רק אם מלאו לכם שמונה עשרה שנים ואתם מסכימים לתנאים אלה.") == "he"


def test_link_targets_and_urls_are_not_read():
    assert readable_text("See [our terms](https://example.com/terms) at www.example.com/privacy or write to "
                         "help@example.com today") == "See [our terms]  at   or write to   today"
    assert readable_text("[x](https://example.com/a-very-long-address-with-many-letters)") is None


def test_the_detector_is_part_of_the_analysers_identity():
    class Keywords:
        analyzer_id = "keywords-1"

        def classify(self, texts, privacy_policy=False):
            return []

    assert detector_id().startswith("cld3-")
    assert Analyzer(Keywords()).analyzer_id == f"keywords-1+{detector_id()}"


def test_the_detector_is_loaded_on_first_use_not_at_import():
    probe = ("import sys, analysis.pipeline, analysis.language as l; before = 'gcld3' in sys.modules; "
             "l.detect_language('Some words in English, enough of them to decide.'); "
             "print(before, 'gcld3' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parents[2]).stdout.split()
    assert shown == ["False", "True"]
