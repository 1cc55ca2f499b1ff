"""`make smoke API=...` against the local system started as `make run` starts it, and against broken APIs.

The passing run starts `python -m storesync_local` in its own process (free ports, its own state folder),
connects a store for a development merchant over HTTP, then runs the Makefile target and expects every check
to pass and the store to be listed. The failing runs point the script at small stand-in servers that each
break one thing, so each check is shown to fail on its own.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from storesync_local import smoke
from storesync_local.client import StoresyncClient
from storesync_local.runtime import unique_stack_name

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ACME, US = "A1NASELLER0001", "ATVPDKIKX0DER"
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m storesync_local` (what `make run` starts) on free ports; yields its API URL; SIGTERM at the end."""
    env = {**os.environ, "STORESYNC_STATE_DIR": str(tmp_path_factory.mktemp("smoke-state"))}
    for name in ("SPAPI_ENDPOINT", "SPAPI_LWA_URL", "SPAPI_CONSENT_URL", "AWS_ENDPOINT_URL"):
        env.pop(name, None)  # the simulator, never an external SP-API; the runtime's own moto
    ports = [str(free_port()) for _ in range(3)]
    command = [sys.executable, "-m", "storesync_local", "--api-port", ports[0], "--spapi-port", ports[1],
               "--moto-port", ports[2], "--stack-name", unique_stack_name("smoke"), "--skus", "5",
               "--orders", "5", "--quota-scale", "1000", "--no-schedules"]  # fmt: skip  # little work: a quick stop
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    banner: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break  # the process ended
            banner.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(banner)
        found = re.search(r"API \(HTTP API gateway\)\s+(http://127\.0\.0\.1:\d+)", text)
        assert found and "Ctrl-C stops everything" in text, f"the local runtime did not start:\n{text}"
        # keep reading its output so that the pipe never fills up
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield found.group(1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def make_smoke(*assignments: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TOKEN", "MERCHANT", "API", "MAKEFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", "smoke", *assignments],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_make_smoke_passes_against_make_run_and_lists_the_merchants_store(make_run: str) -> None:
    merchant = "smoke-merchant"
    client = StoresyncClient.signed_in(make_run, merchant)
    client.connect_store(ACME, US, "Acme US smoke")

    done = make_smoke(f"API={make_run}", f"MERCHANT={merchant}")

    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith(("ok", "FAIL"))]
    assert len(lines) == 3 and all(line.startswith("ok    ") for line in lines), done.stdout
    assert "GET / serves the console (the login URI)" in lines[0]
    assert "GET /stores without a token is refused (401)" in lines[0]
    assert "GET /openapi.json serves OpenAPI 3." in lines[1]
    assert "1 store(s): Acme US smoke (active)" in lines[2], done.stdout
    assert done.stdout.rstrip().endswith("smoke test passed")


def test_make_smoke_with_a_given_token_and_expected_stores(make_run: str) -> None:
    token = StoresyncClient.signed_in(make_run, "smoke-merchant-2").token

    given = make_smoke(f"API={make_run}/", f"TOKEN={token}")
    assert given.returncode == 0, given.stdout + given.stderr
    assert "0 store(s): none yet" in given.stdout
    assert token not in given.stdout + given.stderr  # the token is never echoed

    out = io.StringIO()
    missing = smoke.main(["--api", make_run, "--token", token, "--expect-store", "Acme US"], out=out)
    assert missing == 1
    assert "FAIL  GET /stores: no store named 'Acme US'" in out.getvalue()

    refused = make_smoke(f"API={make_run}", "TOKEN=not-a-jwt")
    assert refused.returncode != 0
    assert "FAIL  GET /stores: the token was refused (401)" in refused.stdout


def test_make_smoke_without_an_api_says_how_to_call_it() -> None:
    done = make_smoke()
    assert done.returncode != 0
    assert "usage: make smoke API=https://..." in done.stderr


def test_a_url_that_is_not_http_is_refused_naming_the_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        smoke.main(["--api", "ftp://example.invalid"])
    assert exited.value.code == 2
    assert "argument --api: 'ftp://example.invalid' is not an http(s) URL" in capsys.readouterr().err


# -- stand-in APIs that break one thing each ---------------------------------------------------------------------
GOOD: dict[str, tuple[int, str, Any]] = {
    "/": (200, "text/html; charset=utf-8", "<html>console</html>"),
    "/stores": (401, "application/json", {"message": "Unauthorized"}),
    "/openapi.json": (200, "application/json", {"openapi": "3.1.0", "paths": {"/stores": {}}}),
    "/local/token": (200, "application/json", {"token": "local-token"}),
}
STORES = {"stores": [{"store_id": "s1", "name": "Shop", "status": "active"}], "warnings": []}


def stand_in(routes: dict[str, tuple[int, str, Any]]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if self.path.startswith("/?") and "/?" in routes:
                path = "/?"  # the login URI: / with the parameters Amazon adds
            if path == "/stores" and self.headers.get("Authorization") == "Bearer local-token":
                status, kind, body = routes.get("/stores+token", (200, "application/json", STORES))
            else:
                status, kind, body = routes.get(path, (404, "application/json", {"message": "Not Found"}))
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ({}, None),
        ({"/": (502, "application/json", {"message": "Internal Server Error"})}, "GET / (also with the login URI's Amazon parameters) should"),
        ({"/?": (400, "application/json", {"error": {"field": "amazon_state"}})}, "GET / (also with the login"),
        ({"/stores": (200, "application/json", STORES)}, "GET /stores without a token should be refused with 401"),
        ({"/openapi.json": (404, "application/json", {"message": "Not Found"})}, "GET /openapi.json: HTTP 404"),
        ({"/openapi.json": (200, "text/html", "<html>")}, "GET /openapi.json: HTTP 200 is not JSON"),
        ({"/openapi.json": (200, "application/json", {"swagger": "2.0", "paths": {"/stores": {}}})},
         "not an OpenAPI 3 document"),
        ({"/openapi.json": (200, "application/json", {"openapi": "3.1.0", "paths": {}})},
         "does not describe /stores"),
        ({"/local/token": (404, "application/json", {"message": "Not Found"})}, "no token: give TOKEN="),
        ({"/stores+token": (500, "application/json", {"message": "Internal Server Error"})}, "GET /stores: HTTP 500"),
        ({"/stores+token": (200, "application/json", {"stores": [{"name": "x"}]})}, "not a list of stores"),
    ],
)  # fmt: skip
def test_each_check_fails_on_its_own(broken: dict[str, tuple[int, str, Any]], expected: str | None) -> None:
    server, url = stand_in({**GOOD, **broken})
    try:
        out = io.StringIO()
        status = smoke.main(["--api", url, "--timeout", "5"], out=out)
    finally:
        server.shutdown()
        server.server_close()
    lines = [line for line in out.getvalue().splitlines() if line.startswith(("ok", "FAIL"))]
    if expected is None:
        assert status == 0 and len(lines) == 3 and "1 store(s): Shop (active)" in lines[2], out.getvalue()
    else:
        assert status == 1, out.getvalue()
        failed = [line for line in lines if line.startswith("FAIL")]
        assert len(failed) == 1 and expected in failed[0], out.getvalue()
        assert len(lines) == 3  # the other checks still ran


def test_an_api_that_does_not_answer_fails_once_and_stops() -> None:
    port = free_port()  # nothing listens on it any more
    out = io.StringIO()
    assert smoke.main(["--api", f"http://127.0.0.1:{port}", "--timeout", "5"], out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[1].startswith(f"FAIL  GET /: cannot reach http://127.0.0.1:{port}")
    assert lines[2:] == ["smoke test FAILED"]
