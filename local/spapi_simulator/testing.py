"""Helpers for tests that drive the simulator over HTTP (used by the simulator's and the connector's tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import requests

from .sellers import CLIENT_ID, CLIENT_SECRET

if TYPE_CHECKING:
    from .simulator import Simulator


@dataclass(frozen=True)
class Authorized:
    seller_id: str
    refresh_token: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"x-amz-access-token": self.access_token}


def authorize(sim: Simulator, seller_id: str = "A1NASELLER0001") -> Authorized:
    """Approve the consent page for `seller_id` and exchange the code, all over HTTP."""
    redirect_uri = "https://app.example.com/callback"
    answer = requests.post(
        f"{sim.url}/apps/authorize/consent",
        data={
            "application_id": "amzn1.sp.solution.storesync-local",
            "state": "s1",
            "redirect_uri": redirect_uri,
            "selling_partner_id": seller_id,
            "decision": "approve",
        },
        allow_redirects=False,
        timeout=10,
    )
    answer.raise_for_status()
    params = dict(parse_qsl(urlsplit(answer.headers["Location"]).query))
    tokens = lwa_token(
        sim, grant_type="authorization_code", code=params["spapi_oauth_code"], redirect_uri=redirect_uri
    ).json()
    return Authorized(seller_id, tokens["refresh_token"], tokens["access_token"])


def lwa_token(sim: Simulator, **form: str) -> requests.Response:
    data: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
    return requests.post(f"{sim.url}/auth/o2/token", data=data, timeout=10)


def admin(sim: Simulator, method: str, path: str, json: Any = None, **params: Any) -> Any:
    """Call /_sim/{path}; raise on a non-2xx answer; return the JSON."""
    answer = requests.request(
        method, f"{sim.url}/_sim/{path.lstrip('/')}", json=json, params=params, timeout=30
    )
    if answer.status_code >= 300:
        raise AssertionError(f"{method} /_sim/{path}: {answer.status_code} {answer.text}")
    return answer.json()


def fault_mode(sim: Simulator, mode: str, share: float = 1.0, operations: list[str] | None = None) -> Any:
    """Switch one fault mode (README "Fault modes"): `share` of the calls of `operations` (None: every
    operation the mode applies to); share 0 switches it off. Returns the faults now in force."""
    return admin(sim, "POST", "faults", {"modes": {mode: {"share": share, "operations": operations}}})


def clear_sp_api_caches() -> None:
    """python-amazon-sp-api caches access tokens per refresh token at module level."""
    try:
        from sp_api.auth import access_token_client
    except ImportError:  # pragma: no cover - a dependency of the layer, not of the simulator
        return
    access_token_client.cache.clear()
    access_token_client.grantless_cache.clear()
