"""Job runs and leases on SQLite and PostgreSQL (the ``store`` fixture runs both)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from store import job_runs

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def test_migration_creates_the_job_tables(store):
    tables = set(inspect(store.engine).get_table_names())
    assert {"job_runs", "job_leases"} <= tables


def test_free_lease_is_acquired_then_refused_to_a_second_holder(store):
    first = job_runs.acquire_lease(store, "daily", "host-a:1", now=T0, ttl=TTL)
    assert (first.holder, first.expires_at, first.taken_over_from) == ("host-a:1", T0 + TTL, None)
    with pytest.raises(job_runs.LeaseHeldError) as refused:
        job_runs.acquire_lease(store, "daily", "host-b:2", now=T0 + timedelta(minutes=4), ttl=TTL)
    assert refused.value.lease.holder == "host-a:1"
    assert "host-a:1" in str(refused.value) and "daily" in str(refused.value)


def test_leases_are_per_job(store):
    job_runs.acquire_lease(store, "daily", "a", now=T0, ttl=TTL)
    other = job_runs.acquire_lease(store, "digest", "b", now=T0, ttl=TTL)
    assert other.holder == "b"
    assert [lease.job_id for lease in job_runs.leases(store)] == ["daily", "digest"]


def test_expired_lease_is_taken_over_and_the_dead_holders_run_closed(store):
    job_runs.acquire_lease(store, "daily", "dead", now=T0, ttl=TTL)
    run_id = job_runs.start_run(store, "daily", "run", "dead", now=T0)
    later = T0 + TTL + timedelta(seconds=1)
    taken = job_runs.acquire_lease(store, "daily", "alive", now=later, ttl=TTL)
    assert (taken.holder, taken.taken_over_from) == ("alive", "dead")
    (closed,) = job_runs.runs(store, "daily")
    assert closed.id == run_id
    assert (closed.outcome, closed.finished_at) == ("failed", later)
    assert "dead" in closed.error and "expired" in closed.error


def test_renewal_extends_the_lease_and_keeps_others_out(store):
    job_runs.acquire_lease(store, "daily", "a", now=T0, ttl=TTL)
    renewed = job_runs.renew_lease(store, "daily", "a", now=T0 + timedelta(minutes=4), ttl=TTL)
    assert renewed.expires_at == T0 + timedelta(minutes=9)
    with pytest.raises(job_runs.LeaseHeldError):
        job_runs.acquire_lease(store, "daily", "b", now=T0 + timedelta(minutes=6), ttl=TTL)


def test_renewing_a_lease_taken_over_raises_lost(store):
    job_runs.acquire_lease(store, "daily", "a", now=T0, ttl=TTL)
    job_runs.acquire_lease(store, "daily", "b", now=T0 + TTL, ttl=TTL)
    with pytest.raises(job_runs.LeaseLostError):
        job_runs.renew_lease(store, "daily", "a", now=T0 + TTL, ttl=TTL)


def test_release_only_by_the_holder(store):
    job_runs.acquire_lease(store, "daily", "a", now=T0, ttl=TTL)
    assert job_runs.release_lease(store, "daily", "b") is False
    assert job_runs.lease(store, "daily").holder == "a"
    assert job_runs.release_lease(store, "daily", "a") is True
    assert job_runs.lease(store, "daily") is None
    assert job_runs.acquire_lease(store, "daily", "b", now=T0, ttl=TTL).holder == "b"


def test_runs_are_recorded_with_outcome_counts_and_error(store):
    ok = job_runs.start_run(store, "daily", "run", "a", now=T0)
    job_runs.finish_run(store, ok, "ok", now=T0 + timedelta(minutes=3), counts={"crawl": {"new_version": 2}})
    job_runs.record_skipped(store, "daily", "run", "b", now=T0 + timedelta(minutes=1), reason="held by a")
    failed = job_runs.start_run(store, "digest", "digest", "a", now=T0 + timedelta(days=1))
    job_runs.finish_run(store, failed, "failed", now=T0 + timedelta(days=1), error="SMTP refused")

    newest_first = job_runs.runs(store, "daily")
    assert [r.outcome for r in newest_first] == ["skipped", "ok"]
    assert newest_first[1].counts == {"crawl": {"new_version": 2}}
    assert newest_first[1].finished_at == T0 + timedelta(minutes=3)
    assert newest_first[0].error == "held by a"
    last = job_runs.last_runs(store)
    assert (last["daily"].outcome, last["digest"].error) == ("skipped", "SMTP refused")
    assert job_runs.last_runs(store, outcomes=("ok",))["daily"].id == ok


def test_finish_run_refuses_an_unknown_outcome(store):
    run_id = job_runs.start_run(store, "daily", "run", "a", now=T0)
    with pytest.raises(ValueError, match="'done'"):
        job_runs.finish_run(store, run_id, "done", now=T0)
