"""Job messages: what dispatch, "sync now", continuations and the stock-out fast path put on the job queues.

The rule "which modes a job accepts" is stated once (JOB_MODES) and checked once (`_JobAndMode`), by every
model that names a job and a mode: the schedule's Input, the SQS message, the API's "sync now" body.
"""

from __future__ import annotations

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

Trigger = Literal["schedule", "manual", "continuation", "stockout", "rerun"]


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

    def continuation(self) -> JobMessage:
        return self.model_copy(update={"trigger": "continuation"})
