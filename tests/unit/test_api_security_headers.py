"""The console's answers carry a strict Content-Security-Policy and the other security headers; the console
itself has nothing that policy would block, and shows no text from its query string as a link; the template
throttles the API stage (issue 15, parts 6 and 7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fakes import unit_api_settings
from fixtures_stores import api_event
from storesync.api.app import handle
from storesync.api.routes_console import CONSOLE_DIR
from storesync_local.functions import FakeLambdaContext
from storesync_local.template import load_template

SETTINGS = unit_api_settings()


def call(event: dict) -> dict:
    return handle(event, FakeLambdaContext("api"), SETTINGS)


def policy(answer: dict) -> dict[str, str]:
    directives = answer["headers"]["Content-Security-Policy"].split(";")
    return {d.split()[0]: " ".join(d.split()[1:]) for d in (x.strip() for x in directives) if d}


@pytest.mark.parametrize("path", ["/", "/console/app.js", "/console/styles.css", "/console/missing.js"])
def test_console_answers_carry_the_security_headers(path):
    answer = call(api_event("GET", path, merchant=None))
    headers = answer["headers"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    csp = policy(answer)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["script-src"] == "'self'" and csp["default-src"] == "'self'"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "unsafe-eval" not in headers["Content-Security-Policy"]


def test_json_answers_and_refusals_carry_nosniff():
    for event in (
        api_event("GET", "/stores", merchant=None),  # 401
        api_event("GET", "/openapi.json", merchant=None),
        api_event("POST", "/stores", body="[" * 1000),  # refused before the routes
    ):
        answer = call(event)
        assert answer["headers"]["X-Content-Type-Options"] == "nosniff", answer
        assert "frame-ancestors 'none'" in answer["headers"]["Content-Security-Policy"]


def test_swagger_ui_keeps_its_own_scripts_but_is_never_framed():
    answer = call(api_event("GET", "/docs", merchant=None))
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_the_console_has_nothing_the_policy_blocks():
    index = (CONSOLE_DIR / "index.html").read_text()
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", index, re.S):
        assert script.strip() == "", "inline script in index.html"
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", index))
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", index, re.I)
    for path in CONSOLE_DIR.glob("*.js"):
        text = path.read_text()
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ):
            assert sink not in text, f"{path.name} uses {sink}"
        assert not re.search(r"setAttribute\(\s*[\"']style", text), path.name
        assert not re.search(r"setTimeout\(\s*[\"'`]", text), path.name


def test_no_text_from_the_query_string_becomes_a_link():
    """Only app.js reads location.search, and only to announce the callback's outcome as text and to go to
    the store page by hash: none of it reaches an href or a link element."""
    readers = [p.name for p in CONSOLE_DIR.glob("*.js") if "location.search" in p.read_text()]
    assert readers == ["app.js"]
    app = (CONSOLE_DIR / "app.js").read_text()
    reader = app.split("function takeAuthorizationOutcome", 1)[1].split("\n}\n", 1)[0]
    assert "href" not in reader and '"a"' not in reader and "h(" not in reader
    assert "announce(" in reader and "encodeURIComponent(storeId)" in reader


def test_the_api_stage_is_throttled_by_two_parameters():
    template = load_template()
    settings = template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert settings == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
    }
    rate = template["Parameters"]["ApiThrottlingRateLimit"]
    burst = template["Parameters"]["ApiThrottlingBurstLimit"]
    assert rate["Type"] == burst["Type"] == "Number"
    assert 1 <= rate["Default"] <= burst["Default"] <= 5000  # API Gateway's account default is 10,000/5,000


def test_readme_names_the_throttling_parameters():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "ApiThrottlingRateLimit, ApiThrottlingBurstLimit" in readme
