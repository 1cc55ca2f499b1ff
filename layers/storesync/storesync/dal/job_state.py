"""Leases, cursors and the sync log: the queries and conditional writes on JobState and SyncRun."""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import timedelta
from typing import Any, Literal, NamedTuple

from pynamodb.exceptions import PutError, UpdateError

from storesync.clock import iso, utcnow
from storesync.dal.jobs import JobState, SyncRun
from storesync.domain.notices import Notice

SYNC_LOG_RETENTION = timedelta(days=30)
PROGRESS_STALE_SECONDS = 1800  # progress not touched for this long belongs to a chain that died: not shown
MANUAL_RUN_PATIENCE_SECONDS = 900  # a "sync now" no run took up by then (a lost message) may be asked again


class LeaseLost(RuntimeError):
    """Another run took this store's job over (our lease expired): stop without writing more."""


def _ensure(store_id: str, job: str, merchant_id: str) -> None:
    with contextlib.suppress(PutError):  # it exists already
        JobState(store_id, job, merchant_id=merchant_id).save(condition=JobState.store_id.does_not_exist())


def acquire_lease(store_id: str, job: str, merchant_id: str, owner: str, seconds: int) -> JobState | None:
    """Take the (store, job) lease if free or expired. None when another run holds it."""
    _ensure(store_id, job, merchant_id)
    now = time.time()
    state = JobState(store_id, job)
    try:
        state.update(
            actions=[JobState.lease_owner.set(owner), JobState.lease_expires_at.set(now + seconds)],
            condition=(JobState.lease_expires_at < now) | (JobState.lease_owner == owner),
        )
    except UpdateError:
        return None
    return JobState.get(store_id, job, consistent_read=True)


def request_rerun(store_id: str, job: str, mode: str) -> None:
    """Ask for a run of `mode` once the chain holding the lease ends (one write: the same mode asked twice is one
    request, other modes are kept beside it)."""
    JobState(store_id, job).update(actions=[JobState.rerun_modes.add({mode})])


def release_lease(
    store_id: str, job: str, owner: str, *, continuing: bool = False
) -> tuple[bool, str | None]:
    """Give the lease back. At the end of a run chain, returns (a rerun was asked meanwhile, its mode), taking
    that mode out of the request: the caller sends the rerun (and asks again with `request_rerun` if it cannot).
    Several modes asked run one chain at a time (in name order): the others wait for the rerun's own end. A run
    that continues (its continuation is sent, or SQS delivers its message again) leaves the request for the
    chain's end and returns (False, None). Each write is safe alone: a crash after the release leaves the request
    for the next chain's end."""
    state = JobState(store_id, job)
    try:
        # pynamodb's update returns ALL_NEW onto `state`: the request is left untouched here, so we see it.
        state.update(
            actions=[
                JobState.lease_owner.remove(),
                JobState.lease_expires_at.set(0),
                JobState.manual_run_id.remove(),  # a "sync now" waiting for this run is done with it
            ],
            condition=JobState.lease_owner == owner,
        )
    except UpdateError:
        return False, None
    if continuing:
        return False, None
    if not state.rerun_modes:
        return False, None
    mode = sorted(state.rerun_modes)[0]
    try:
        state.update(
            actions=[JobState.rerun_modes.delete({mode})], condition=JobState.rerun_modes.contains(mode)
        )
    except UpdateError:  # taken meanwhile
        return False, None
    return True, mode


class ManualRun(NamedTuple):
    """The "sync now" of a store's job: its id, mode, and whether this request queued it (`new`)."""

    run_id: str
    mode: str
    state: Literal["queued", "running"]
    new: bool


def claim_manual_run(
    store_id: str, job: str, merchant_id: str, mode: str, run_id: str, now: float | None = None
) -> ManualRun:
    """At most one "sync now" per store and job: claim `run_id` (then the caller queues the job, `new` is True)
    unless an earlier one is still queued or running, whose id and mode are answered instead (`new` False).

    One conditional write: of two simultaneous requests exactly one claims. A run in progress without a claim
    (a scheduled one) is claimed as "running" without queueing anything. The claim ends when the run gives its
    lease back (`release_lease`), or after MANUAL_RUN_PATIENCE_SECONDS without any run holding the lease.
    """
    _ensure(store_id, job, merchant_id)
    for _ in range(3):
        moment = time.time() if now is None else now
        state = JobState.get(store_id, job, consistent_read=True)
        running = bool(state.lease_owner) and float(state.lease_expires_at or 0) > moment
        fresh = float(state.manual_run_at or 0) > moment - MANUAL_RUN_PATIENCE_SECONDS
        if state.manual_run_id and (running or fresh):
            status: Literal["queued", "running"] = "running" if running else "queued"
            return ManualRun(state.manual_run_id, state.manual_run_mode or mode, status, False)
        seen = (
            JobState.manual_run_id.does_not_exist()
            if not state.manual_run_id
            else JobState.manual_run_id == state.manual_run_id
        )
        try:
            JobState(store_id, job).update(
                actions=[
                    JobState.manual_run_id.set(run_id),
                    JobState.manual_run_mode.set(mode),
                    JobState.manual_run_at.set(moment),
                ],
                condition=seen,
            )
        except UpdateError:
            continue  # another request claimed meanwhile: answer theirs
        return ManualRun(run_id, mode, "running" if running else "queued", not running)
    raise RuntimeError(f"could not claim a manual {job} run of store {store_id}")


def save_cursor(store_id: str, job: str, owner: str, cursor: dict[str, Any]) -> None:
    """Write the job's cursor, only while we still hold the lease."""
    try:
        JobState(store_id, job).update(
            actions=[JobState.cursor.set(cursor)], condition=JobState.lease_owner == owner
        )
    except UpdateError as exc:
        raise LeaseLost(f"lease on {job} for store {store_id} was lost") from exc


def save_progress(store_id: str, job: str, owner: str, progress: dict[str, Any] | None) -> None:
    """Write (None: clear) the progress of the job's run chain, only while we hold the lease. Progress is for
    the merchant's eyes: a lost lease is noticed by the next cursor save, not here."""
    action = JobState.progress.remove() if progress is None else JobState.progress.set(progress)
    with contextlib.suppress(UpdateError):
        JobState(store_id, job).update(actions=[action], condition=JobState.lease_owner == owner)


def progress_of(store_id: str, now: float | None = None) -> dict[str, dict[str, Any]]:
    """The store's run chains in progress, by job: the progress each last reported, unless it is older than
    PROGRESS_STALE_SECONDS (a chain that died without clearing it). One query (one item per job)."""
    moment = time.time() if now is None else now
    found: dict[str, dict[str, Any]] = {}
    for state in JobState.query(store_id, consistent_read=True):
        progress = dict(state.progress or {})
        if progress and float(progress.get("updated_epoch", 0)) > moment - PROGRESS_STALE_SECONDS:
            found[state.job] = progress
    return found


def load_cursor(store_id: str, job: str) -> dict[str, Any]:
    try:
        return dict(JobState.get(store_id, job, consistent_read=True).cursor or {})
    except JobState.DoesNotExist:
        return {}


def record_run(
    *,
    store_id: str,
    merchant_id: str,
    job: str,
    mode: str,
    trigger: str,
    started_at: float,
    result: str,
    counts: dict[str, int],
    errors: list[Notice],
) -> SyncRun:
    finished = time.time()
    started_dt = utcnow() - timedelta(seconds=finished - started_at)
    started_iso = iso(started_dt)
    # milliseconds in the key: runs of one store within one second stay in order
    started_ms = f"{started_iso[:-1]}.{started_dt.microsecond // 1000:03d}Z"
    run = SyncRun(
        store_id,
        f"{started_ms}#{job}#{uuid.uuid4().hex[:8]}",
        merchant_id=merchant_id,
        job=job,
        mode=mode,
        trigger=trigger,
        started_at=started_iso,
        finished_at=iso(utcnow()),
        duration_ms=int((finished - started_at) * 1000),
        result=result,
        counts=dict(counts),
        errors=[e.clipped(500) for e in errors[:50]],
        expires_at=utcnow() + SYNC_LOG_RETENTION,
    )
    run.save()
    return run


def latest_runs(store_id: str, limit: int = 50, job: str | None = None) -> list[SyncRun]:
    condition = SyncRun.job == job if job else None
    return list(
        SyncRun.query(
            store_id, scan_index_forward=False, limit=limit if not job else None, filter_condition=condition
        )
    )[:limit]
