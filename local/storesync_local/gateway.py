"""A local API Gateway HTTP API: real HTTP in, payload format 2.0 events to the ApiFunction, HTTP out.

Routes come from the function's HttpApi events in template.yaml (method or ANY, `{param}` and `{proxy+}`).
Routes marked `Auth: Authorizer: NONE` pass without a token; every other route needs `Authorization: Bearer
<jwt>` valid for the JWT authorizer (here HS256 development tokens, see devtokens.py) and gets its claims in
`requestContext.authorizer.jwt.claims`; otherwise 401 `{"message":"Unauthorized"}` as API Gateway answers.
An unknown route is 404 `{"message":"Not Found"}`. In local mode `GET /local/token?merchant=ID` goes to the
function (which answers it when LOCAL_DEV_TOKENS=true) and, if the function does not know it, to the gateway.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from spapi_simulator.http_server import BackgroundWsgiServer
from werkzeug.wrappers import Request, Response

from .devtokens import JwtConfig, TokenError, authorizer_claims
from .template import function_events

log = logging.getLogger("storesync_local.gateway")

Invoke = Callable[[str, dict[str, Any]], Any]
LOCAL_TOKEN_PATH = "/local/token"
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/x-www-form-urlencoded",
    "application/xml",
    "+json",
    "+xml",
)
_TEXT_TYPES_JS = ("application/javascript",)


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ... or ANY
    path: str  # /stores/{proxy+}
    function: str
    authorized: bool  # False: Auth: Authorizer: NONE

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        found = re.fullmatch(self._regex, path)
        return None if found is None else found.groupdict()

    @property
    def _regex(self) -> str:
        parts = []
        for segment in self.path.strip("/").split("/") if self.path != "/" else []:
            greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
            plain = re.fullmatch(r"\{(\w+)\}", segment)
            if greedy:
                parts.append(f"/(?P<{greedy.group(1)}>.+)")
            elif plain:
                parts.append(f"/(?P<{plain.group(1)}>[^/]+)")
            else:
                parts.append("/" + re.escape(segment))
        return "".join(parts) or "/"

    def specificity(self) -> tuple[int, int, int]:
        segments = self.path.strip("/").split("/")
        literal = sum(1 for s in segments if not s.startswith("{"))
        greedy = any(s.endswith("+}") for s in segments)
        return (-literal, int(greedy), int(self.method == "ANY"))


def template_routes(template: dict[str, Any]) -> list[Route]:
    """Every HttpApi event of every function, most specific first (API Gateway's matching order)."""
    routes = []
    for logical_id, _, props in function_events(template, "HttpApi"):
        method = str(props.get("Method", "ANY")).upper()
        method = "ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method
        authorizer = props.get("Auth", {}).get("Authorizer")
        routes.append(Route(method, props.get("Path", "/"), logical_id, authorizer != "NONE"))
    return sorted(routes, key=Route.specificity)


def _is_text(content_type: str) -> bool:
    lowered = content_type.lower()
    return not lowered or any(t in lowered for t in _TEXT_TYPES + _TEXT_TYPES_JS)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


@dataclass(eq=False)
class Gateway:
    """The WSGI app and server; `invoke(function, event)` calls a handler (the runtime serializes per function)."""

    routes: list[Route]
    invoke: Invoke
    jwt_config: JwtConfig
    _: KW_ONLY
    api_function: str = "ApiFunction"
    local_tokens: bool = True
    is_ready: Callable[[str], bool] = lambda _function: True
    url: str = field(default="", init=False)
    _http: BackgroundWsgiServer = field(init=False)

    def __post_init__(self) -> None:
        self._http = BackgroundWsgiServer(self.wsgi, "storesync-gateway")

    # -- server ------------------------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> Gateway:
        self.url = self._http.start(host, port)
        return self

    @property
    def port(self) -> int:
        return self._http.port

    def stop(self) -> None:
        self._http.stop()

    # -- requests ----------------------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except Exception:
            log.exception("gateway: %s %s failed", request.method, request.path)
            response = _json(500, {"message": "Internal Server Error"})
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        method, path = request.method.upper(), request.path
        for route in self.routes:
            params = route.match(method, path)
            if params is None:
                continue
            claims: dict[str, Any] | None = None
            if route.authorized:
                try:
                    claims = self._authorize(request)
                except TokenError as exc:
                    log.info("gateway: 401 on %s %s: %s", method, path, exc)
                    return _json(
                        401,
                        {"message": "Unauthorized"},
                        {"www-authenticate": f'Bearer error="invalid_token" error_description="{exc}"'},
                    )
            if not self.is_ready(route.function):
                return _json(
                    503, {"message": "Service Unavailable", "detail": f"{route.function} is not built yet"}
                )
            event = self.build_event(request, route.route_key, params, claims)
            return self.to_response(self.invoke(route.function, event))
        if self.local_tokens and method == "GET" and path == LOCAL_TOKEN_PATH:
            return self._local_token(request)
        return _json(404, {"message": "Not Found"})

    def _authorize(self, request: Request) -> dict[str, Any]:
        header = request.headers.get("Authorization", "")
        if not header:
            raise TokenError("the Authorization header is missing")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenError("the Authorization header must be 'Bearer <token>'")
        return self.jwt_config.verify(token.strip())

    def _local_token(self, request: Request) -> Response:
        """Ask the function first (its own GET /local/token); answer here when it does not have the route."""
        if self.is_ready(self.api_function):
            event = self.build_event(request, f"GET {LOCAL_TOKEN_PATH}", {}, None)
            answer = self.to_response(self.invoke(self.api_function, event))
            if answer.status_code != 404:
                return answer
        merchant = request.args.get("merchant", "")
        try:
            token = self.jwt_config.issue(merchant)
        except TokenError as exc:
            return _json(
                400, {"error": {"code": "invalid_request", "message": str(exc), "field": "merchant"}}
            )
        return _json(
            200, {"token": token, "token_type": "Bearer", "merchant_id": merchant, "expires_in": 43200}
        )

    def build_event(
        self, request: Request, route_key: str, path_params: dict[str, str], claims: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The API Gateway HTTP API payload format 2.0 event for this request."""
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        cookie_header = headers.pop("cookie", "")
        host = headers.get("host", request.host)
        headers.setdefault("x-forwarded-for", request.remote_addr or "127.0.0.1")
        headers.setdefault("x-forwarded-proto", request.scheme)
        headers.setdefault("x-forwarded-port", host.rsplit(":", 1)[1] if ":" in host else "80")
        raw_query = request.environ.get("QUERY_STRING", "")
        # as received (percent-encoding kept), like API Gateway's rawPath
        raw_path = str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path)
        raw_path = raw_path.split("?", 1)[0] or "/"
        query: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        now = datetime.now(UTC)
        context: dict[str, Any] = {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0].split(":")[0],
            "http": {
                "method": request.method.upper(),
                "path": raw_path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        }
        if claims is not None:
            context["authorizer"] = {"jwt": {"claims": authorizer_claims(claims), "scopes": None}}
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": False,
        }
        if cookie_header:
            event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
        if query:
            event["queryStringParameters"] = query
        if path_params:
            event["pathParameters"] = path_params
        data = request.get_data()
        if data:
            if _is_text(headers.get("content-type", "")):
                try:
                    event["body"] = data.decode("utf-8")
                except UnicodeDecodeError:
                    event["body"], event["isBase64Encoded"] = base64.b64encode(data).decode(), True
            else:
                event["body"], event["isBase64Encoded"] = base64.b64encode(data).decode(), True
        return event

    @staticmethod
    def to_response(result: Any) -> Response:
        """A payload format 2.0 answer back to HTTP (a bare value means 200 JSON, as API Gateway infers)."""
        if not (isinstance(result, dict) and "statusCode" in result):
            inferred = result if isinstance(result, str) else json.dumps(result)
            return Response(inferred, status=200, content_type="application/json")
        raw_body = result.get("body") or ""
        body: bytes = (
            base64.b64decode(raw_body) if result.get("isBase64Encoded") else str(raw_body).encode("utf-8")
        )
        response = Response(body, status=int(result["statusCode"]))
        response.headers.pop("Content-Type", None)
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(name, str(value))
        for cookie in result.get("cookies") or []:
            response.headers.add("Set-Cookie", cookie)
        if "Content-Type" not in response.headers and body:
            response.headers["Content-Type"] = "application/json"
        return response
