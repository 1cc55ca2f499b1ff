"""Job messages: what dispatch, "sync now", continuations and the stock-out fast path put on the job queues."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JobName = Literal["products", "orders", "inventory", "shipments"]
JOBS: tuple[JobName, ...] = ("products", "orders", "inventory", "shipments")

# The modes each job accepts; the first is its default.
JOB_MODES: dict[str, tuple[str, ...]] = {
    "products": ("incremental", "full"),
    "orders": ("incremental", "catchup"),
    "inventory": ("incremental", "stockout"),
    "shipments": ("incremental",),
}

Trigger = Literal["schedule", "manual", "continuation", "stockout", "rerun"]


class ScheduleInput(BaseModel):
    """The Input of an EventBridge schedule rule (template.yaml): which job and mode to dispatch."""

    model_config = ConfigDict(extra="forbid")
    job: JobName
    mode: str = "incremental"


class JobMessage(BaseModel):
    """One store's slice of work for one job (the body of an SQS message)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    job: JobName
    mode: str = "incremental"
    merchant_id: str = Field(min_length=1)
    store_id: str = Field(min_length=1)
    trigger: Trigger = "schedule"
    skus: tuple[str, ...] = ()  # stock-out fast path: the SKUs that just hit 0

    def continuation(self) -> JobMessage:
        return self.model_copy(update={"trigger": "continuation"})


def mode_is_valid(job: str, mode: str) -> bool:
    return mode in JOB_MODES.get(job, ())
