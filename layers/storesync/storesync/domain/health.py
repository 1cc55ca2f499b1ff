"""Sync health (plain Python): per store and job, the last success, the lag since it and the failed runs in a
row; a job is late when its lag passes twice its cadence, failing after three failed runs in a row. Both
become a store warning in plain words (a Notice).

A store's last run of a job (Store.last_runs[job], written by the runner after every run) carries:
  {"at": iso, "result": ok|partial|error|failed|throttled|skipped, "summary": text,
   "succeeded_at": iso | None, "failed_runs": int}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storesync.clock import iso, parse_iso
from storesync.domain.notices import Notice, NoticeCode, notice

LATE_AFTER_CADENCES = 2  # a job is late when its lag passes this many cadences
FAILING_AFTER_RUNS = 3  # a job is failing after this many failed runs in a row

SUCCEEDED = frozenset({"ok", "partial"})  # the run did its work (partial: some records had problems)
FAILED = frozenset({"error", "failed"})  # error: Amazon failed (retrying) or a bug; failed: retries given up

JOB_LABELS: dict[str, str] = {
    "products": "Product import",
    "orders": "Order import",
    "inventory": "Inventory push",
    "shipments": "Shipment push",
}


def job_label(job: str) -> str:
    return JOB_LABELS.get(job, job)


def last_success(entry: Mapping[str, Any] | None) -> str | None:
    """When the job last succeeded; an entry written before entries carried it counts its own run if that
    one succeeded."""
    entry = entry or {}
    if "succeeded_at" in entry:
        return entry["succeeded_at"] or None
    return entry.get("at") if entry.get("result") in SUCCEEDED else None


def after_run(previous: Mapping[str, Any] | None, result: str, summary: str, at: datetime) -> dict[str, Any]:
    """A job's last-run entry after a run that ended with `result` at `at`: the success time moves on a
    success, the failures in a row count up on a failure and restart at 0 on a success; a throttled or
    skipped run changes neither."""
    previous = previous or {}
    succeeded_at = last_success(previous)
    failed_runs = int(previous.get("failed_runs") or 0)
    if result in SUCCEEDED:
        succeeded_at, failed_runs = iso(at), 0
    elif result in FAILED:
        failed_runs += 1
    return {
        "at": iso(at),
        "result": result,
        "summary": summary[:300],
        "succeeded_at": succeeded_at,
        "failed_runs": failed_runs,
    }


@dataclass(frozen=True)
class JobHealth:
    job: str
    cadence_seconds: float
    last_success_at: str | None
    lag_seconds: float | None  # since the last success (or since `since` when it never succeeded)
    failed_runs: int
    last_summary: str
    watched: bool  # False when the job does not run for this store (paused store, products not downloaded)

    @property
    def late(self) -> bool:
        return (
            self.watched
            and self.lag_seconds is not None
            and self.lag_seconds > LATE_AFTER_CADENCES * self.cadence_seconds
        )

    @property
    def failing(self) -> bool:
        return self.watched and self.failed_runs >= FAILING_AFTER_RUNS

    @property
    def state(self) -> str:
        if not self.watched:
            return "paused"
        if self.failing:
            return "failing"
        return "late" if self.late else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "cadence_seconds": int(self.cadence_seconds),
            "last_success_at": self.last_success_at,
            "lag_seconds": None if self.lag_seconds is None else int(self.lag_seconds),
            "failed_runs": self.failed_runs,
            "state": self.state,
        }

    def warnings(self) -> list[Notice]:
        found: list[Notice] = []
        if self.failing:
            found.append(
                notice(
                    NoticeCode.SYNC_FAILING,
                    job=job_label(self.job),
                    runs=self.failed_runs,
                    reason=self.last_summary or "see the sync log",
                )
            )
        if self.late and self.lag_seconds is not None:
            found.append(
                notice(
                    NoticeCode.SYNC_LATE,
                    job=job_label(self.job),
                    lag=duration_words(self.lag_seconds),
                    cadence=duration_words(self.cadence_seconds),
                    since=self.last_success_at or "never",
                )
            )
        return found


def job_health(
    job: str,
    last_run: Mapping[str, Any] | None,
    cadence_seconds: float,
    now: datetime,
    since: datetime | None,
    watched: bool = True,
) -> JobHealth:
    """The health of one job of a store. `since`: when the store started syncing (its authorization): the lag
    of a job that never succeeded counts from there."""
    last_run = last_run or {}
    succeeded_at = last_success(last_run)
    start = parse_iso(succeeded_at) if succeeded_at else since
    lag = max(0.0, (now - start).total_seconds()) if start else None
    return JobHealth(
        job=job,
        cadence_seconds=cadence_seconds,
        last_success_at=succeeded_at,
        lag_seconds=lag,
        failed_runs=int(last_run.get("failed_runs") or 0),
        last_summary=str(last_run.get("summary") or ""),
        watched=watched,
    )


def health_warnings(jobs: Iterable[JobHealth]) -> list[Notice]:
    return [w for health in jobs for w in health.warnings()]


def duration_words(seconds: float) -> str:
    """'45 min', '2 h 10 min', '3 days 4 h' (rounded down to the minute)."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"
