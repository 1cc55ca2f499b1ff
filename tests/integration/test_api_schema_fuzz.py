"""Property-based: requests generated from the API's own OpenAPI document (schemathesis) never get a 5xx, and
answers with a declared schema conform to it.

Runs the real ApiFunction handler on a moto stack with one connected store. For every documented operation it
draws `EXAMPLES` cases that fit the document (positive) and `EXAMPLES` that break it (negative: wrong types,
values out of range, strings past their maximum, missing required fields), half of them aimed at the real store
(its id in the path or query), so the routes run past "no such store". Deterministic (derandomize: the same
cases every run) and bounded: a few hundred handler calls, well under a minute.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from fixtures_stores import ACME, US, Api, api_event, connect_api, connected_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")

EXAMPLES = 10  # per operation and generation mode
SKIPPED = {("GET", "/docs")}  # Swagger UI's HTML, nothing to fuzz
LAST = ("DELETE",)  # disconnecting the store last keeps the others working on an active store


@pytest.fixture
def api(make_stack, spapi_sim, load_function, lambda_context) -> Api:
    return connect_api(make_stack, spapi_sim, load_function, lambda_context)


def _query(case: Any) -> dict[str, str]:
    values = case.query or {}
    return {
        str(name): (json.dumps(value) if isinstance(value, dict | list | bool | None) else str(value))
        for name, value in values.items()
    }


def _body(case: Any) -> tuple[str, bool] | None:
    """The event's body and its isBase64Encoded flag (bytes go base64, as API Gateway sends binary bodies)."""
    body = case.body
    if body is None or type(body).__name__ == "NotSet":
        return None
    if isinstance(body, bytes):
        return base64.b64encode(body).decode(), True
    return (body if isinstance(body, str) else json.dumps(body)), False


def call_case(api: Api, case: Any) -> Response:
    method, path = case.method.upper(), case.formatted_path
    event = api_event(method, path, body=None, query=_query(case) or None)
    body = _body(case)
    if body is not None:
        event["body"], event["isBase64Encoded"] = body
    answer = api.handler(event, api.context)
    headers = {k.lower(): [str(v)] for k, v in (answer.get("headers") or {}).items()}
    prepared = requests.Request(method, f"http://api.test{path}", params=_query(case)).prepare()
    return Response(
        status_code=int(answer["statusCode"]),
        headers=headers,
        content=str(answer.get("body") or "").encode("utf-8"),
        request=prepared,
        elapsed=0.0,
        verify=True,
    )


def _operations(document: dict[str, Any]) -> list[Any]:
    schema = schemathesis.openapi.from_dict(document)
    found = [result.ok() for result in schema.get_all_operations()]
    found = [op for op in found if (op.method.upper(), op.path) not in SKIPPED]
    return sorted(found, key=lambda op: (op.method.upper() in LAST, op.path, op.method))


def _modes(operation: Any) -> tuple[GenerationMode, ...]:
    """Negative cases need something to break: a parameter or a body."""
    has_inputs = any(len(part) for part in (operation.path_parameters, operation.query, operation.body))
    return (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_inputs else (GenerationMode.POSITIVE,)


def _fuzz(api: Api, operation: Any, mode: GenerationMode, store_id: str, seen: Callable[[int], None]) -> None:
    names = {p.name for p in operation.path_parameters} | {p.name for p in operation.query}
    overrides: dict[str, Any] = {}
    if "store_id" in names:
        where = "path_parameters" if any(p.name == "store_id" for p in operation.path_parameters) else "query"
        overrides[where] = {"store_id": store_id}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(operation.as_strategy(mode), operation.as_strategy(mode, **overrides)))
    def check(case: Any) -> None:
        response = call_case(api, case)
        seen(response.status_code)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    check()


def test_generated_requests_never_get_a_5xx_and_answers_conform(api):
    store = connected_store(api.sim, api.stack, ACME, US)
    document = json.loads(api.handler(api_event("GET", "/openapi.json", merchant=None), api.context)["body"])
    operations = _operations(document)
    assert len(operations) >= 20
    statuses: list[int] = []
    started = time.monotonic()
    for operation in operations:
        for mode in _modes(operation):
            _fuzz(api, operation, mode, store.store_id, statuses.append)
    elapsed = time.monotonic() - started
    assert all(status < 500 for status in statuses)
    assert len(statuses) >= len(operations) * 4, len(statuses)  # every operation was really exercised
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)
    print(f"schemathesis: {len(statuses)} cases over {len(operations)} operations in {elapsed:.1f} s")
