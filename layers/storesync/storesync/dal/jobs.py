"""Per store and job: the lease, the cursor and the sync log."""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from storesync.dal.base import StoreKeyed
from storesync.dal.notices import NoticesAttribute


class JobState(StoreKeyed):
    """One per (store, job). The lease keeps two runs of one store's job from overlapping."""

    job = UnicodeAttribute(range_key=True)  # products | orders | inventory | shipments
    cursor = JSONAttribute(default=dict)  # the job's own cursor (see each use case)
    lease_owner = UnicodeAttribute(null=True)
    lease_expires_at = NumberAttribute(default=0)  # epoch seconds
    # the modes asked for while a run chain held the lease (job_state.request_rerun): each runs once after the
    # chain, one chain at a time (job_state.release_lease)
    # (items written before carry rerun_requested/rerun_mode, no longer read: a request pending at the update
    # waits for the next schedule)
    rerun_modes = UnicodeSetAttribute(null=True)
    # "sync now": the merchant's request queued or running (job_state.claim_manual_run; cleared on release)
    manual_run_id = UnicodeAttribute(null=True)
    manual_run_mode = UnicodeAttribute(null=True)
    manual_run_at = NumberAttribute(default=0)  # epoch seconds
    # the run chain in progress, as the merchant reads it (job_state.save_progress; cleared when the chain ends):
    # {"step", "label", "step_number", "steps", "done", "expected", "unit", "started_at", "updated_at", ...}
    progress = JSONAttribute(null=True)


class SyncRun(StoreKeyed):
    """A job run as the merchant reads it in the sync log. Kept 30 days."""

    run_key = UnicodeAttribute(range_key=True)  # "<started iso>#<job>#<run id>"
    job = UnicodeAttribute()
    mode = UnicodeAttribute()
    trigger = UnicodeAttribute(default="schedule")
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute()
    duration_ms = NumberAttribute()
    result = UnicodeAttribute()  # ok | partial | error | throttled | skipped
    counts = MapAttribute(default=dict)  # type: ignore[var-annotated]
    errors = NoticesAttribute(default=list)  # the run's problems in plain words, no buyer data
    expires_at = TTLAttribute()
