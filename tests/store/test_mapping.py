"""store/mapping.py: a document's spec survives its JSON column, and an undeclared part costs nothing per document."""

from __future__ import annotations

import json

from analysis.domain import DocumentSpec, SourceSpec
from analysis.volatile import VolatileRules
from store.mapping import spec_from_json, spec_to_json


def _through_the_column(spec: DocumentSpec) -> DocumentSpec:
    return spec_from_json(json.loads(json.dumps(spec_to_json(spec))))


def test_a_spec_with_volatile_values_reads_back_equal():
    spec = DocumentSpec("acme", "Privacy Policy", (SourceSpec("https://acme.example/privacy"),),
                        volatile=VolatileRules(params=frozenset({"session"}), texts=("Updated {*}",)),
                        volatile_keep=frozenset({"2024"}))

    assert _through_the_column(spec) == spec


def test_a_spec_without_volatile_values_shares_the_defaults_instead_of_holding_its_own():
    spec = DocumentSpec("acme", "Terms of Service", (SourceSpec("https://acme.example/terms"),))
    default = DocumentSpec("other", "Terms of Service", ())

    read = _through_the_column(spec)

    assert read == spec
    assert read.volatile is default.volatile
    assert read.volatile_keep is default.volatile_keep
