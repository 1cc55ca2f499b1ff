"""The sync log of a store (GET /stores/{id}/runs) and "sync now" (POST /stores/{id}/sync).

The sync log also answers the store's runs in progress (`in_progress`): per job whose run chain has not ended
(a product or order import that continues through the queue), the current step, its number among the steps,
the items done and, where Amazon says it, the items expected (usecases.runner.Progress).

"Sync now" starts at most one run per store and job at a time: while one is queued or running, another request
answers that one (same `run_id`, `new` false) and queues nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, ValidationError

from storesync.api.deps import api_services
from storesync.api.errors import BadRequest, Conflict, validation_message
from storesync.api.params import StoreId
from storesync.api.store_access import merchant_store
from storesync.api.views import progress_view, run_view
from storesync.dal.job_state import claim_manual_run, latest_runs, progress_of
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.jobs import JobMessage, JobMode, JobName

router = Router()
MAX_RUNS = 200


class SyncRequest(BaseModel):
    """Which job to run now; the mode must be one the job accepts (default: the job's first mode)."""

    model_config = ConfigDict(extra="forbid")
    job: JobName
    mode: JobMode | None = None


class SyncQueued(BaseModel):
    """The answer of "sync now": the job message of the run, its id, whether it is still queued or running,
    and whether this request queued it (`new`) or an earlier one did (then nothing more was queued)."""

    queued: JobMessage
    run_id: str
    state: Literal["queued", "running"]
    new: bool


def in_progress(store_id: str) -> list[dict[str, Any]]:
    """The store's run chains in progress, one per job (the Stores page and the store page show them)."""
    return [progress_view(job, progress) for job, progress in sorted(progress_of(store_id).items())]


@router.get(
    "/stores/<store_id>/runs",
    summary="The sync log of a store, newest first, and the runs in progress (step, items done and expected)",
)
def sync_log(
    store_id: StoreId,
    limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = 50,
    job: Annotated[JobName | None, Query()] = None,
) -> dict[str, Any]:
    store = merchant_store(router, store_id)
    runs = latest_runs(store.store_id, limit=limit, job=job)
    return {
        "store_id": store.store_id,
        "in_progress": in_progress(store.store_id),
        "runs": [run_view(r) for r in runs],
    }


@router.post(
    "/stores/<store_id>/sync",
    summary="Run a job of a store now (answers the queued job message)",
    status_code=202,
)
def sync_now(store_id: StoreId, request: Annotated[SyncRequest, Body()]) -> SyncQueued:
    store = merchant_store(router, store_id)
    if store.status != STATUS_ACTIVE:
        raise Conflict(f"store_id: the store is {store.status.replace('_', ' ')}, not active", "store_id")
    try:
        message = JobMessage(
            job=request.job,
            mode=request.mode,
            merchant_id=store.merchant_id,
            store_id=store.store_id,
            trigger="manual",
        )
    except ValidationError as exc:  # the mode does not fit the job (the one place that rule is checked)
        problem = validation_message(exc.errors()[0]).removeprefix("mode: ")
        raise BadRequest(f"mode: {problem}", "mode", code="invalid_field") from None
    run = claim_manual_run(
        store.store_id, message.job, store.merchant_id, message.mode, f"run_{uuid.uuid4().hex[:12]}"
    )
    if not run.new:
        message = message.model_copy(update={"mode": JobMode(run.mode)})
        return SyncQueued(queued=message, run_id=run.run_id, state=run.state, new=False)
    api_services().queue.send(message)
    return SyncQueued(queued=message, run_id=run.run_id, state=run.state, new=True)
