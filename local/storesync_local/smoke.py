"""`make smoke API=https://...`: check that a storesync deployment (or `make run`) answers.

Three checks, each printed as one line, `ok` or `FAIL` with the reason:

1. the API answers: `GET /` serves the merchant console (also with the parameters Amazon adds when it sends a
   seller to the OAuth login URI) and `GET /stores` without a token is refused (401), so the JWT authorizer
   stands in front of the API;
2. `GET /openapi.json` serves an OpenAPI 3 document that describes `/stores`;
3. a development merchant lists its stores: `GET /stores` with the merchant's bearer token answers its stores.

The token comes from `--token` or the `TOKEN` environment variable (a JWT of a development merchant, issued by
the identity provider the stack's JwtIssuer/JwtAudience name). Without one, the script asks the local
runtime's `GET /local/token?merchant=...` (only `make run` answers it; a deployment answers 404).

Exit status: 0 when every check passed, 1 when one failed, 2 for bad arguments. Only `requests` and the
standard library are used, and the token is never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit

import requests

DEFAULT_MERCHANT = "demo-merchant"
DEFAULT_TIMEOUT = 15.0
# what Amazon adds to the OAuth login URI when a seller authorizes from the Selling Partner Appstore
APPSTORE_LOGIN_PARAMS = {
    "amazon_callback_uri": "https://sellercentral.amazon.com/apps/authorize/confirm/amzn1.sp.solution.smoke",
    "amazon_state": "smoke-test-state",
    "selling_partner_id": "A1SMOKETEST",
}


class CheckFailed(Exception):
    """A check's failure, with the reason shown to the engineer."""


class Unreachable(CheckFailed):
    """The API does not answer at all: the later checks are not tried."""


@dataclass
class Smoke:
    api_url: str
    token: str = ""
    merchant: str = DEFAULT_MERCHANT
    expect_stores: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    out: TextIO = sys.stdout
    session: requests.Session = field(default_factory=requests.Session)

    # -- HTTP ------------------------------------------------------------------------------------------------
    def get(self, path: str, token: str = "", **params: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            return self.session.get(
                self.api_url + path, headers=headers, params=params or None, timeout=self.timeout
            )
        except requests.RequestException as exc:
            reason = str(exc.__context__ or exc).split(": ", 1)[-1][:300]
            raise Unreachable(
                f"GET {path}: cannot reach {self.api_url} ({type(exc).__name__}: {reason})"
            ) from None

    @staticmethod
    def json_of(answer: requests.Response, path: str) -> Any:
        try:
            return answer.json()
        except ValueError:
            raise CheckFailed(
                f"GET {path}: HTTP {answer.status_code} is not JSON "
                f"({answer.headers.get('content-type', 'no content-type')}): {answer.text[:200]!r}"
            ) from None

    # -- the checks ------------------------------------------------------------------------------------------
    def check_api_answers(self) -> str:
        # `/` is also the OAuth login URI: a seller who starts from the Selling Partner Appstore arrives with these
        console = self.get("/", **APPSTORE_LOGIN_PARAMS)
        if console.status_code != 200 or "html" not in console.headers.get("content-type", ""):
            raise CheckFailed(
                f"GET / (also with the login URI's Amazon parameters) should serve the console (200, text/html): "
                f"HTTP {console.status_code} "
                f"{console.headers.get('content-type', '')}: {console.text[:200]!r}"
            )
        anonymous = self.get("/stores")
        if anonymous.status_code != 401:
            raise CheckFailed(
                f"GET /stores without a token should be refused with 401 (the JWT authorizer): "
                f"HTTP {anonymous.status_code}: {anonymous.text[:200]!r}"
            )
        return "the API answers: GET / serves the console (the login URI), GET /stores without a token is refused (401)"

    def check_openapi(self) -> str:
        answer = self.get("/openapi.json")
        if answer.status_code != 200:
            raise CheckFailed(f"GET /openapi.json: HTTP {answer.status_code}: {answer.text[:200]!r}")
        document = self.json_of(answer, "/openapi.json")
        if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
            raise CheckFailed("GET /openapi.json: not an OpenAPI 3 document (no 'openapi': '3.x')")
        paths = document.get("paths")
        if not isinstance(paths, dict) or "/stores" not in paths:
            raise CheckFailed("GET /openapi.json: the document does not describe /stores")
        return f"GET /openapi.json serves OpenAPI {document['openapi']} ({len(paths)} paths)"

    def obtain_token(self) -> str:
        if self.token:
            return self.token
        answer = self.get("/local/token", merchant=self.merchant)
        if answer.status_code != 200:
            raise CheckFailed(
                "no token: give TOKEN=<a JWT of a development merchant> (or --token); only the local "
                f"runtime hands out tokens (GET /local/token answered HTTP {answer.status_code})"
            )
        token = self.json_of(answer, "/local/token").get("token")
        if not isinstance(token, str) or not token:
            raise CheckFailed("GET /local/token: the answer has no token")
        return token

    def check_stores(self) -> str:
        token = self.obtain_token()
        answer = self.get("/stores", token=token)
        if answer.status_code == 401:
            raise CheckFailed(
                "GET /stores: the token was refused (401): check it is unexpired and that its issuer and "
                "audience are the stack's JwtIssuer and JwtAudience"
            )
        if answer.status_code != 200:
            raise CheckFailed(f"GET /stores: HTTP {answer.status_code}: {answer.text[:200]!r}")
        body = self.json_of(answer, "/stores")
        stores = body.get("stores") if isinstance(body, dict) else None
        if not isinstance(stores, list) or not all(
            isinstance(s, dict) and {"store_id", "name", "status"} <= s.keys() for s in stores
        ):
            raise CheckFailed(f"GET /stores: not a list of stores: {str(body)[:200]!r}")
        names = [str(s["name"]) for s in stores]
        missing = [name for name in self.expect_stores if name not in names]
        if missing:
            raise CheckFailed(
                f"GET /stores: no store named {', '.join(map(repr, missing))} (stores: {names})"
            )
        listed = "; ".join(f"{s['name']} ({s['status']})" for s in stores) or "none yet"
        return f"the merchant lists its stores: {len(stores)} store(s): {listed}"

    def run(self) -> bool:
        checks: list[Callable[[], str]] = [self.check_api_answers, self.check_openapi, self.check_stores]
        print(f"storesync smoke test of {self.api_url}", file=self.out)
        passed = True
        for check in checks:
            try:
                print(f"ok    {check()}", file=self.out, flush=True)
            except CheckFailed as exc:
                print(f"FAIL  {exc}", file=self.out, flush=True)
                passed = False
                if isinstance(exc, Unreachable):
                    break
        print("smoke test passed" if passed else "smoke test FAILED", file=self.out)
        return passed


def api_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL, e.g. https://abc.execute-api...")
    return value.strip().rstrip("/")


def parse_args(argv: list[str] | None, environ: dict[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="storesync smoke",
        description="Check that a storesync deployment answers: the API, /openapi.json, a merchant's stores.",
        epilog="The token is never printed. Exit status 0 = every check passed, 1 = a check failed.",
    )
    parser.add_argument("--api", type=api_url, required=True, help="the API URL (stack output ApiUrl)")
    parser.add_argument(
        "--token",
        default=environ.get("TOKEN", ""),
        help="a development merchant's JWT (default: $TOKEN; without one, the local runtime's /local/token)",
    )
    parser.add_argument(
        "--merchant",
        default=environ.get("MERCHANT") or DEFAULT_MERCHANT,
        help=f"the merchant whose local token is asked for without a token (default {DEFAULT_MERCHANT})",
    )
    parser.add_argument(
        "--expect-store",
        action="append",
        default=[],
        metavar="NAME",
        help="fail unless the merchant has a store of this name (repeatable)",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = parse_args(argv, dict(os.environ))
    smoke = Smoke(
        api_url=args.api,
        token=args.token,
        merchant=args.merchant,
        expect_stores=tuple(args.expect_store),
        timeout=args.timeout,
        out=out or sys.stdout,
    )
    return 0 if smoke.run() else 1


if __name__ == "__main__":
    sys.exit(main())
