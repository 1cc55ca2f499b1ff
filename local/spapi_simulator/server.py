"""The simulator's HTTP core: routing, access tokens, quotas, faults, validation, Amazon's error shapes.

Adding an SP-API operation (what reports_api.py, listings_api.py, ... do)::

    from .errors import sp_error
    from .server import Call, sp_api_route

    @sp_api_route("GET", "/listings/2021-08-01/items/<sellerId>", operation_id="searchListingsItems",
                  model="listingsItems_2021-08-01.json")
    def search_listings_items(call: Call, sellerId: str) -> tuple[int, dict]:
        if sellerId != call.seller_id:
            raise sp_error(403, "Unauthorized", "Access to requested resource is denied.")
        page = call.query.get("pageSize", 10)      # typed and already validated against the model
        ...
        return 200, {"numberOfResults": 0, "items": []}

Path rules use Flask's `<name>` syntax with the model's parameter names. Before the handler runs, the wrapper:
1. applies the faults (latency, dropped connection, 500/503 share) when they cover this operationId, and the
   modes `html_5xx` (a 502/503/504 HTML page) and `throttle_no_headers` (a 429 the bucket did not cause);
2. resolves `x-amz-access-token` to a seller (403 Unauthorized, Amazon's messages, when missing/wrong/expired;
   `grantless=True` routes take client_credentials tokens, then `call.seller_id` is None);
3. takes a token from the bucket (seller, operationId) with the model's usage plan times quota_scale (429
   QuotaExceeded when empty; x-amzn-RateLimit-Limit on successful answers);
4. validates path, query and JSON body against the model (400 InvalidInput naming the field); unknown query
   parameters are tolerated (python-amazon-sp-api adds marketplace parameters);
5. after the handler: `lost_answer` (the call is done, the connection is dropped), then on a successful
   JSON answer at most one of `empty_body`, `truncated_body` (cut at half), `extra_fields` (faults.py);
6. counts calls, throttles and errors per operationId (GET /_sim/stats); every answer sent carries
   x-amzn-RequestId, faulty ones too.

A handler returns `(status, body)` or `(status, body, headers)` (body: JSON-able, or None for no content) or
a flask Response, and raises `sp_error(status, code, message)` for Amazon's `{"errors": [...]}` answers.
`call.world` is the shared state (world.World, lock: `call.world.lock`), `call.sim` the state.SimulatorState (its
`config` has report_seconds, feed_seconds, listing_delay...), `call.clock` the clock, `call.body` the parsed
JSON body (document URLs: documents.document_url).

Non-SP-API routes (LWA, consent, admin, document download/upload) use `@sim_route("GET", "/_sim/...")`;
their handler gets `(sim, **path_params)` and reads `flask.request` itself.

Modules listed in API_MODULES are imported (when present) before the app is built, so their routes register.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from . import schemas
from .errors import QUOTA_EXCEEDED, SpApiError, sp_error
from .quotas import DEFAULT_USAGE_PLANS, FALLBACK_USAGE_PLAN, usage_plan_from_description

if TYPE_CHECKING:
    from .clock import Clock
    from .state import SimulatorState
    from .world import World

API_MODULES = (
    "lwa",
    "admin",
    "sellers_api",
    "orders_api",
    "notifications_api",
    "reports_api",
    "listings_api",
    "feeds_api",
    "fba_inventory_api",
)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    payload = "" if body is None else json.dumps(body)
    response = Response(payload, status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


@dataclass
class Call:
    sim: SimulatorState
    operation_id: str
    seller_id: str | None
    query: dict[str, Any]
    body: Any
    path_params: dict[str, str]

    @property
    def world(self) -> World:
        return self.sim.world

    @property
    def clock(self) -> Clock:
        return self.sim.clock


Handler = Callable[..., Any]


@dataclass(frozen=True)
class SimRoute:
    method: str
    rule: str
    handler: Handler


@dataclass(frozen=True)
class SpApiRoute(SimRoute):
    """A route of the SP-API itself: the operation of its model, and whether it takes a grantless token."""

    operation_id: str
    model: str
    grantless: bool = False


SP_API_ROUTES: list[SpApiRoute] = []
SIM_ROUTES: list[SimRoute] = []


def sp_api_route(
    method: str, rule: str, *, operation_id: str, model: str, grantless: bool = False
) -> Callable[[Handler], Handler]:
    schemas.operation(model, operation_id)  # fail at import time on a typo

    def register(handler: Handler) -> Handler:
        SP_API_ROUTES.append(SpApiRoute(method.upper(), rule, handler, operation_id, model, grantless))
        return handler

    return register


def sim_route(method: str, rule: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        SIM_ROUTES.append(SimRoute(method.upper(), rule, handler))
        return handler

    return register


def load_api_modules() -> None:
    for name in API_MODULES:
        try:
            importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise


def usage_plan(route: SpApiRoute) -> tuple[float, int]:
    described = usage_plan_from_description(schemas.operation(route.model, route.operation_id).description)
    return DEFAULT_USAGE_PLANS.get(route.operation_id) or described or FALLBACK_USAGE_PLAN


class DroppedConnection(Exception):
    """Raised after the socket was closed on purpose (fault drop_rate)."""


def _drop_connection() -> None:
    sock = request.environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # no close(): werkzeug sees a broken pipe, drops quietly
            sock.shutdown(socket.SHUT_RDWR)
    raise DroppedConnection()


def _parse_json_body() -> Any:
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise sp_error(400, "InvalidInput", "body: the request body is not valid JSON") from None


def _bind_sp_api_route(app: Flask, sim: SimulatorState, route: SpApiRoute) -> None:
    plan = usage_plan(route)

    def view(**path_params: str) -> Response:
        stats = sim.stats
        with sim.stats_lock:
            stats.bump(stats.calls, route.operation_id)
        try:
            response = _serve(sim, route, plan, path_params)
        except SpApiError as exc:
            response = json_response(exc.status, exc.body())
        except DroppedConnection:
            with sim.stats_lock:
                stats.bump(stats.errors, route.operation_id)
            return Response(b"", status=500)  # never reaches the client: the socket is shut
        if "x-amzn-RequestId" not in response.headers:  # errors too: Amazon names every answer
            response.headers["x-amzn-RequestId"] = sim.world.new_request_id()
        if response.status_code == 429:
            with sim.stats_lock:
                stats.bump(stats.throttled, route.operation_id)
        elif response.status_code >= 400:
            with sim.stats_lock:
                stats.bump(stats.errors, route.operation_id)
        return response

    view.__name__ = f"sp_{route.operation_id}_{route.method}_{len(app.view_functions)}"
    app.add_url_rule(route.rule, view.__name__, view, methods=[route.method])


def _serve(
    sim: SimulatorState, route: SpApiRoute, plan: tuple[float, int], path_params: dict[str, str]
) -> Response:
    faults = sim.faults.faults
    operation_id = route.operation_id
    if faults.applies_to(operation_id):
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000.0)
        if sim.faults.roll(faults.drop_rate):
            sim.faults.count("drop_rate")
            _drop_connection()
        if sim.faults.roll(faults.error_rate_500):
            sim.faults.count("error_rate_500")
            raise sp_error(500, "InternalFailure", "We encountered an internal error. Please try again.")
        if sim.faults.roll(faults.error_rate_503):
            sim.faults.count("error_rate_503")
            raise sp_error(503, "ServiceUnavailable", "Service temporarily unavailable. Please try again.")
    if sim.faults.pick("html_5xx", operation_id):
        return html_error_page(sim.faults.choice(HTML_STATUSES))
    if sim.faults.pick("throttle_no_headers", operation_id):
        raise sp_error(429, "QuotaExceeded", QUOTA_EXCEEDED)  # a 429 never carries x-amzn-RateLimit-Limit
    token = request.headers.get("x-amz-access-token", "")
    seller_id = sim.world.resolve_access_token(
        token, grantless=route.grantless, ttl_override=faults.token_ttl_seconds
    )
    if not sim.quotas.take(seller_id or "_application", operation_id, plan):
        raise sp_error(429, "QuotaExceeded", QUOTA_EXCEEDED)
    body = _parse_json_body() if route.method in ("POST", "PUT", "PATCH") else None
    try:
        query = schemas.validate_request(
            route.model, operation_id, path_params, request.args.to_dict(flat=False), body
        )
    except schemas.RequestInvalid as exc:
        raise sp_error(400, "InvalidInput", str(exc)) from None
    call = Call(sim, operation_id, seller_id, query, body, path_params)
    sim.world.tick()
    result = route.handler(call, **path_params)
    if sim.faults.pick("lost_answer", operation_id):
        _drop_connection()  # Amazon did it; its answer never arrives
    if isinstance(result, Response):
        response = result
    else:
        status, payload, *rest = result
        response = json_response(status, payload, rest[0] if rest else None)
    if response.status_code < 400:
        response.headers["x-amzn-RateLimit-Limit"] = sim.quotas.limit_header(plan)
        _spoil_success(sim, operation_id, response)
    response.headers["x-amzn-RequestId"] = sim.world.new_request_id()
    return response


HTML_STATUSES = (502, 503, 504)
_HTML_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
EXTRA_FIELD = "simulatorExtraField"


def html_error_page(status: int) -> Response:
    """What a gateway in front of the SP-API answers when it fails: an HTML page, not Amazon's JSON."""
    reason = _HTML_REASONS[status]
    page = (
        f'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<html><head>'
        f"<title>{status} {reason}</title></head><body><h1>{status} {reason}</h1>"
        "<p>The server encountered a temporary error and could not complete your request.</p>"
        "</body></html>\n"
    )
    return Response(page, status=status, mimetype="text/html")


def with_extra_fields(value: Any) -> Any:
    """`value` with an unknown field added to every object in it (recursively): what Amazon does when it
    extends an answer. In maps whose values are all lists (listings attributes), the extra value is a list."""
    if isinstance(value, list):
        return [with_extra_fields(v) for v in value]
    if not isinstance(value, dict):
        return value
    extended = {k: with_extra_fields(v) for k, v in value.items()}
    lists = bool(value) and all(isinstance(v, list) for v in value.values())
    extended[EXTRA_FIELD] = [] if lists else "added by the extra_fields fault"
    return extended


def _spoil_success(sim: SimulatorState, operation_id: str, response: Response) -> None:
    """The faults of successful answers with a JSON body: empty, truncated, extra fields (at most one)."""
    if response.status_code >= 300 or response.mimetype != "application/json" or response.is_streamed:
        return
    data = response.get_data()
    if not data:
        return
    if sim.faults.pick("empty_body", operation_id):
        response.set_data(b"")
    elif sim.faults.pick("truncated_body", operation_id):
        response.set_data(data[: max(1, len(data) // 2)])
    elif sim.faults.pick("extra_fields", operation_id):
        response.set_data(json.dumps(with_extra_fields(json.loads(data))).encode())


def _bind_sim_route(app: Flask, sim: SimulatorState, route: SimRoute) -> None:
    def view(**path_params: str) -> Any:
        try:
            return route.handler(sim, **path_params)
        except SpApiError as exc:
            return json_response(exc.status, exc.body())

    name = f"sim_{route.handler.__module__}_{route.handler.__name__}_{route.method}"
    app.add_url_rule(route.rule, name, view, methods=[route.method])


def build_app(sim: SimulatorState) -> Flask:
    load_api_modules()
    app = Flask("spapi_simulator")
    for sim_r in SIM_ROUTES:
        _bind_sim_route(app, sim, sim_r)
    for sp_r in SP_API_ROUTES:
        _bind_sp_api_route(app, sim, sp_r)

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return json_response(404, sp_error(404, "NotFound", f"No resource at {request.path}").body())

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> Response:
        message = f"{request.method} is not supported on {request.path}"
        return json_response(405, sp_error(405, "MethodNotAllowed", message).body())

    return app
