"""The sync log of a store (GET /stores/{id}/runs) and "sync now" (POST /stores/{id}/sync)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, StrictStr, model_validator

from storesync.api.deps import api_services
from storesync.api.errors import BadRequest, Conflict, parse_body
from storesync.api.query_params import choice_param, limit_param
from storesync.api.store_access import merchant_store
from storesync.api.views import run_view
from storesync.dal.job_state import latest_runs
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.jobs import JOB_MODES, JOBS, JobMessage

router = Router()
MAX_RUNS = 200


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job: StrictStr
    mode: StrictStr | None = None

    @model_validator(mode="after")
    def _known(self) -> SyncRequest:
        if self.job not in JOBS:
            raise BadRequest(f"job: must be one of {', '.join(JOBS)}", "job")
        modes = JOB_MODES[self.job]
        if self.mode is not None and self.mode not in modes:
            raise BadRequest(f"mode: {self.job} accepts {', '.join(modes)}", "mode")
        return self


@router.get("/stores/<store_id>/runs")
def sync_log(store_id: str) -> dict[str, Any]:
    store = merchant_store(router, store_id)
    params = router.current_event.query_string_parameters or {}
    job = choice_param(params, "job", JOBS)
    runs = latest_runs(store.store_id, limit=limit_param(params, MAX_RUNS), job=job)
    return {"store_id": store.store_id, "runs": [run_view(r) for r in runs]}


@router.post("/stores/<store_id>/sync")
def sync_now(store_id: str) -> tuple[dict[str, Any], int]:
    store = merchant_store(router, store_id)
    request = parse_body(router, SyncRequest)
    if store.status != STATUS_ACTIVE:
        raise Conflict(f"store_id: the store is {store.status.replace('_', ' ')}, not active", "store_id")
    message = JobMessage(
        job=request.job,  # type: ignore[arg-type]  # checked against JOBS above
        mode=request.mode or JOB_MODES[request.job][0],
        merchant_id=store.merchant_id,
        store_id=store.store_id,
        trigger="manual",
    )
    api_services().queue.send(message)
    return {"queued": message.model_dump(mode="json")}, HTTPStatus.ACCEPTED
