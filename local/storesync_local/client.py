"""An HTTP client for a running local system, as a merchant's browser or the WMS would use it.

Shared by `make demo` and the end-to-end tests: a development token from GET /local/token, JSON calls with the
Bearer token, and the consent round trip (open Amazon's consent page, choose the selling account, Approve,
follow the redirect to storesync's callback).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests

TIMEOUT = 30


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, response: requests.Response) -> None:
        super().__init__(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        self.response = response


@dataclass
class StoresyncClient:
    api_url: str
    merchant_id: str
    token: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def signed_in(cls, api_url: str, merchant_id: str) -> StoresyncClient:
        """Ask the local API for a development token for `merchant_id`."""
        client = cls(api_url.rstrip("/"), merchant_id)
        answer = client.session.get(
            f"{client.api_url}/local/token", params={"merchant": merchant_id}, timeout=TIMEOUT
        )
        if answer.status_code != 200:
            raise ApiError("GET", "/local/token", answer)
        client.token = answer.json()["token"]
        return client

    def request(
        self, method: str, path: str, expect: tuple[int, ...] = (200, 201, 202, 204), **kwargs: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        answer = self.session.request(
            method, self.api_url + path, headers=headers, timeout=TIMEOUT, allow_redirects=False, **kwargs
        )
        if answer.status_code not in expect:
            raise ApiError(method, path, answer)
        return answer.json() if answer.content and "json" in answer.headers.get("content-type", "") else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=body or {}, **kwargs)

    def patch(self, path: str, body: dict[str, Any], **kwargs: Any) -> Any:
        return self.request("PATCH", path, json=body, **kwargs)

    def connect_store(self, seller_id: str, marketplace_id: str, name: str, **form: Any) -> tuple[str, str]:
        """The connect form, Amazon's consent page (Approve as `seller_id`) and the callback.

        Returns (store_id, the URL the callback sent the browser to)."""
        created = self.post("/stores", {"name": name, "marketplace_id": marketplace_id, **form})
        callback = approve_consent(created["consent_url"], seller_id, self.session)
        answer = self.session.get(callback, timeout=TIMEOUT, allow_redirects=False)
        if answer.status_code not in (302, 303):
            raise ApiError("GET", "/amazon/callback", answer)
        return created["store_id"], answer.headers["Location"]


def approve_consent(
    consent_url: str, seller_id: str, session: requests.Session | None = None, decision: str = "approve"
) -> str:
    """Open the consent page, pick `seller_id`, press Approve (or Deny): the redirect back to storesync."""
    http = session or requests.Session()
    page = http.get(consent_url, timeout=TIMEOUT)
    if page.status_code != 200:
        raise RuntimeError(f"consent page: HTTP {page.status_code}: {page.text[:300]}")
    form = re.search(r'<form[^>]*id="consent"[^>]*action="([^"]+)"', page.text)
    if form is None:
        raise RuntimeError("consent page: no consent form found")
    fields = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    if seller_id not in page.text:
        raise RuntimeError(f"consent page: selling account {seller_id} is not offered")
    answer = http.post(
        urljoin(consent_url, html.unescape(form.group(1))),
        data={**fields, "selling_partner_id": seller_id, "decision": decision},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"consent page: HTTP {answer.status_code} after {decision}: {answer.text[:300]}")
    return str(answer.headers["Location"])
