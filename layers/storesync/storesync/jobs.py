"""Job messages: what dispatch, "sync now", continuations and the stock-out fast path put on the job queues.

The rule "which modes a job accepts" is stated once (JOB_MODES) and checked once (`_JobAndMode`), by every
model that names a job and a mode: the schedule's Input, the SQS message, the API's "sync now" body.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class JobName(StrEnum):
    PRODUCTS = "products"
    ORDERS = "orders"
    INVENTORY = "inventory"
    SHIPMENTS = "shipments"


class JobMode(StrEnum):
    INCREMENTAL = "incremental"
    FULL = "full"
    CATCHUP = "catchup"
    STOCKOUT = "stockout"


# The modes each job accepts; the first is its default.
JOB_MODES: dict[JobName, tuple[JobMode, ...]] = {
    JobName.PRODUCTS: (JobMode.INCREMENTAL, JobMode.FULL),
    JobName.ORDERS: (JobMode.INCREMENTAL, JobMode.CATCHUP),
    JobName.INVENTORY: (JobMode.INCREMENTAL, JobMode.STOCKOUT),
    JobName.SHIPMENTS: (JobMode.INCREMENTAL,),
}

Trigger = Literal["schedule", "manual", "continuation", "stockout", "rerun", "reauthorized", "follow_up"]


class _JobAndMode(BaseModel):
    """A job and one of its modes; a missing (or null) mode is the job's first."""

    model_config = ConfigDict(extra="forbid")
    job: JobName
    mode: JobMode = JobMode.INCREMENTAL  # replaced by the job's first mode when not given

    @model_validator(mode="before")
    @classmethod
    def _default_mode(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("mode") is None and data.get("job") in JOB_MODES:
            return {**data, "mode": JOB_MODES[JobName(data["job"])][0]}
        return data

    @model_validator(mode="after")
    def _mode_fits_job(self) -> Self:
        modes = JOB_MODES[self.job]
        if self.mode not in modes:
            raise ValueError(f"mode: {self.job} accepts {', '.join(modes)}, not {self.mode}")
        return self


class ScheduleInput(_JobAndMode):
    """The Input of an EventBridge schedule rule (template.yaml): which job and mode to dispatch."""


class JobMessage(_JobAndMode):
    """One store's slice of work for one job (the body of an SQS message)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    merchant_id: str = Field(min_length=1)
    store_id: str = Field(min_length=1)
    trigger: Trigger = "schedule"
    skus: tuple[str, ...] = ()  # stock-out fast path: the SKUs that just hit 0
    # failed attempts so far in this run chain (Amazon failing or unreadable); the runner gives up at its bound
    attempt: int = Field(default=0, ge=0)

    def continuation(self) -> JobMessage:
        """The next slice after progress: a fresh chain of attempts."""
        return self.model_copy(update={"trigger": "continuation", "attempt": 0})

    def retry(self) -> JobMessage:
        """The same slice again after a failed attempt."""
        return self.model_copy(update={"trigger": "continuation", "attempt": self.attempt + 1})

    def resumed(self) -> JobMessage:
        """The same slice again after a wait that is no failure (Amazon throttled it): the attempts stay."""
        return self.model_copy(update={"trigger": "continuation"})


# How often a job runs: from the template's schedule expressions (they reach the functions as settings).
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\(\s*(\S+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _cron_values(field: str, high: int, what: str) -> list[int]:
    values: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            low, top = 0, high
        elif "-" in base:
            low, top = (int(x) for x in base.split("-", 1))
        else:
            low = int(base)
            top = high if step_text else low
        if not 0 <= low <= top <= high or step < 1:
            raise ValueError(f"cron {what}: {part!r} is outside 0-{high}")
        values.update(range(low, top + 1, step))
    return sorted(values)


def schedule_seconds(expression: str) -> float:
    """How often an EventBridge schedule expression fires, in seconds: exact for rate(...); for cron(...) the
    longest gap between two fires within a day (its minutes and hours fields; a cron that skips days is read
    as daily). Raises ValueError naming the expression when it is neither."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value = int(rate.group(1))
        if value < 1:
            raise ValueError(f"schedule {expression!r}: the rate must be positive")
        return float(value * _UNIT_SECONDS[rate.group(2).rstrip("s")])
    cron = _CRON.match(text)
    if not cron:
        raise ValueError(f"schedule {expression!r}: expected rate(N minutes|hours|days) or cron(...)")
    try:
        minutes = _cron_values(cron.group(1), 59, "minutes")
        hours = _cron_values(cron.group(2), 23, "hours")
    except ValueError as exc:
        raise ValueError(f"schedule {expression!r}: {exc}") from None
    fires = sorted(h * 60 + m for h in hours for m in minutes)
    gaps = [b - a for a, b in zip(fires, fires[1:], strict=False)] + [fires[0] + 1440 - fires[-1]]
    return float(max(gaps) * 60)
