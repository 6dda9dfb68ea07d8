"""Analysis in worker processes gives exactly what analysis in process gives."""

from __future__ import annotations

from analysis.pipeline import Analyzer
from clausewatch.parallel import ParallelAnalyzer

TEXT = """# Terms of Service

## 1. Disputes

Any dispute shall be resolved by binding arbitration in San Francisco, and you waive any right to a class action.

## 2. Termination

We may terminate your account at any time without notice for any reason.
"""


def test_worker_process_analysis_matches_in_process_analysis():
    parallel = ParallelAnalyzer(workers=1)
    try:
        assert parallel(None, TEXT) == Analyzer()(None, TEXT)
        assert parallel.analyzer_id == Analyzer().analyzer_id
    finally:
        parallel.close()
