"""Shared test helpers: a stack wired to the SP-API simulator, and connected (active) stores.

    from fixtures_stores import connected_store, sim_stack   # tests/ is on sys.path (tests/conftest.py)

    def test_something(make_stack, spapi_sim):
        stack = sim_stack(make_stack, spapi_sim)
        store = connected_store(spapi_sim, stack, "A1NASELLER0001", "ATVPDKIKX0DER", inventory_buffer=2)

`connected_store` goes through the real LWA authorization_code grant of the simulator (a code issued as the
consent page would issue it on "Approve", exchanged by storesync's SpApiFactory), encrypts the refresh token
with the stack's KMS key (context `refresh_token_context(store_id)`) and saves an active Store, exactly as
the consent callback leaves it (minus the ORDER_CHANGE subscription).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import boto3
import requests
from spapi_simulator.sellers import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET
from spapi_simulator.simulator import Simulator
from storesync.amazon.clients import LwaCredentials, SpApiConfig, SpApiFactory, seller_key
from storesync.clock import utcnow
from storesync.crypto import KmsCipher
from storesync.dal.store_queries import STATUS_ACTIVE
from storesync.dal.stores import Store, StoreSettings
from storesync.marketplaces import marketplace
from storesync.wiring import refresh_token_context
from storesync_local.template import Provisioned

DEFAULT_MERCHANT = "merchant-1"
US, CA, UK = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1F83G8C2ARO7P"
# The simulator's demo sellers: Acme (NA: US, CA, MX), Bright (NA: US), Contoso (EU), Nippon (FE: JP, AU).
ACME, BRIGHT, CONTOSO = "A1NASELLER0001", "A2NASELLER0002", "A3EUSELLER0003"
TEST_REDIRECT_URI = "https://storesync.test/amazon/callback"


def sim_parameters(sim: Simulator) -> dict[str, str]:
    """Template parameters pointing every function at the simulator."""
    return {
        "SpApiEndpoint": sim.url,
        "SpApiLwaUrl": sim.url + "/auth/o2/token",
        "SpApiConsentUrl": sim.url,
    }


def sim_secrets() -> dict[str, str]:
    return {"LwaCredentialsSecret": json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})}


def sim_stack(make_stack: Callable[..., Provisioned], sim: Simulator, **parameters: str) -> Provisioned:
    """A fresh stack whose functions talk to `sim` (and whose quota gate uses the simulator's scale)."""
    stack = make_stack(parameters={**sim_parameters(sim), **parameters}, secrets=sim_secrets())
    os.environ["SPAPI_QUOTA_SCALE"] = str(sim.config.quota_scale)
    return stack


def sim_factory(sim: Simulator) -> SpApiFactory:
    config = SpApiConfig(
        endpoint=sim.url,
        lwa_url=sim.url + "/auth/o2/token",
        consent_url=sim.url,
        quota_scale=sim.config.quota_scale,
    )
    return SpApiFactory(config, LwaCredentials(CLIENT_ID, CLIENT_SECRET))


def stack_cipher(stack: Provisioned) -> KmsCipher:
    kms = boto3.client("kms", region_name=stack.region, endpoint_url=stack.endpoint_url)
    return KmsCipher(kms, stack.physical["DataKey"])


def issue_refresh_token(sim: Simulator, seller_id: str, redirect_uri: str = TEST_REDIRECT_URI) -> str:
    """What the consent page does on Approve (a code), then the LWA authorization_code grant."""
    code = sim.world.issue_code(seller_id, redirect_uri)
    return sim_factory(sim).exchange_authorization_code(code.code, redirect_uri)


def connected_store(
    sim: Simulator,
    stack: Provisioned,
    seller_id: str,
    marketplace_id: str,
    merchant_id: str = DEFAULT_MERCHANT,
    *,
    store_id: str | None = None,
    name: str | None = None,
    **settings: Any,
) -> Store:
    """An active store of `seller_id` in `marketplace_id` with a real (simulator) refresh token, KMS-encrypted.

    `settings` are StoreSettings fields (download_products_and_orders, import_pending_orders,
    remove_stock_for_external_fulfillments, inventory_buffer, max_quantity, warehouses, starting_inventory).
    """
    unknown = set(settings) - set(StoreSettings.get_attributes())
    if unknown:
        raise TypeError(f"connected_store: unknown store settings {sorted(unknown)}")
    mkt = marketplace(marketplace_id)
    store_id = store_id or f"st_{uuid.uuid4().hex[:12]}"
    refresh_token = issue_refresh_token(sim, seller_id)
    encrypted = stack_cipher(stack).encrypt(refresh_token, refresh_token_context(store_id))
    now = utcnow()
    store = Store(
        merchant_id,
        store_id,
        name=name or f"{mkt.country_code} store of {seller_id}",
        marketplace_id=marketplace_id,
        region=mkt.region.value,
        status=STATUS_ACTIVE,
        selling_partner_id=seller_id,
        seller_key=seller_key(seller_id, mkt.region.value),
        refresh_token_encrypted=encrypted,
        settings=StoreSettings(**settings),
        created_at=now,
        authorized_at=now,
    )
    store.save()
    return store


# The API through its real handler, with real HTTP API (v2) events --------------------------------------------
EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"


def api_event(
    method: str,
    path: str,
    *,
    merchant: str | None = DEFAULT_MERCHANT,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API v2 event like API Gateway sends (events/api_create_store.json reshaped).

    `merchant=None` drops the JWT claims (public routes); `body` is JSON-encoded unless it is a str already;
    `cookies` go into the event's `cookies` list as a browser's Cookie header does.
    """
    event: dict[str, Any] = json.loads((EVENTS_DIR / "api_create_store.json").read_text())
    http = event["requestContext"]["http"]
    http["method"], http["path"] = method, path
    event["rawPath"] = path
    event["routeKey"] = event["requestContext"]["routeKey"] = "$default"
    event["rawQueryString"] = urlencode(query or {})
    if query:
        event["queryStringParameters"] = dict(query)
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
    if body is None:
        event.pop("body", None)
    else:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if cookies:
        event["cookies"] = [f"{name}={value}" for name, value in cookies.items()]
    if merchant is None:
        event["requestContext"].pop("authorizer", None)
        event["headers"].pop("authorization", None)
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = merchant
    return event


@dataclass
class ApiAnswer:
    status: int
    headers: dict[str, str]
    text: str
    cookies: list[str] = field(default_factory=list)  # Set-Cookie values (HTTP API v2 `cookies`)

    def json(self) -> Any:
        return json.loads(self.text)


def call_api(handler: Callable[..., Any], context: Any, method: str, path: str, **kwargs: Any) -> ApiAnswer:
    answer = handler(api_event(method, path, **kwargs), context)
    body = answer.get("body") or ""
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    return ApiAnswer(int(answer["statusCode"]), headers, body, list(answer.get("cookies") or []))


# The connect flow as a browser does it: POST /stores, the simulator's consent page, the callback ---------------
def consent(consent_url: str, seller: str, decision: str = "approve") -> str:
    """Open the simulator's consent page over HTTP, pick `seller`, press Approve/Deny: the redirect Location."""
    page = requests.get(consent_url, timeout=10)
    if page.status_code != 200:
        raise AssertionError(f"consent page answered {page.status_code}: {page.text}")
    fields = {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    form = {**fields, "selling_partner_id": seller, "decision": decision}
    answer = requests.post(
        urljoin(consent_url, "/apps/authorize/consent"), data=form, allow_redirects=False, timeout=10
    )
    if answer.status_code != 302:
        raise AssertionError(f"consent decision answered {answer.status_code}: {answer.text}")
    return str(answer.headers["Location"])


class Api:
    """The ApiFunction handler called with HTTP API v2 events; `.sim` and `.stack` are what it runs against.

    It is one browser: cookies the API sets go into `.jar` (name -> value; Max-Age=0 removes) and every request
    sends them (pass `cookies=` to send others, e.g. {} for another browser)."""

    def __init__(self, handler: Callable[..., Any], context: Any, sim: Simulator, stack: Provisioned) -> None:
        self.handler, self.context, self.sim, self.stack = handler, context, sim, stack
        self.jar: dict[str, str] = {}

    def __call__(self, method: str, path: str, **kwargs: Any) -> ApiAnswer:
        kwargs.setdefault("cookies", dict(self.jar))
        answer = call_api(self.handler, self.context, method, path, **kwargs)
        for cookie in answer.cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return answer

    def create(
        self, marketplace_id: str, merchant: str = DEFAULT_MERCHANT, name: str = "My store", **extra: Any
    ) -> dict[str, Any]:
        body = {"name": name, "marketplace_id": marketplace_id, **extra}
        answer = self("POST", "/stores", merchant=merchant, body=body)
        if answer.status != 201:
            raise AssertionError(f"POST /stores answered {answer.status}: {answer.text}")
        return dict(answer.json())

    def callback(self, location: str, cookies: dict[str, str] | None = None) -> ApiAnswer:
        """The browser follows Amazon's redirect back (with its cookies, or `cookies` when given)."""
        query = dict(parse_qsl(urlsplit(location).query))
        if cookies is None:
            return self("GET", "/amazon/callback", merchant=None, query=query)
        return self("GET", "/amazon/callback", merchant=None, query=query, cookies=cookies)

    def connect(
        self, seller: str, marketplace_id: str, merchant: str = DEFAULT_MERCHANT, **extra: Any
    ) -> tuple[str, ApiAnswer]:
        """Create a store, approve on the consent page as `seller`, run the callback: (store_id, answer)."""
        created = self.create(marketplace_id, merchant, **extra)
        answer = self.callback(consent(created["consent_url"], seller))
        return str(created["store_id"]), answer


def connect_api(
    make_stack: Callable[..., Provisioned], sim: Simulator, load_function: Callable[[str], Any], context: Any
) -> Api:
    """A fresh stack wired to `sim` and a cold-started ApiFunction (use it from a fixture)."""
    stack = sim_stack(make_stack, sim, SpApiApplicationId=APPLICATION_ID)
    return Api(load_function("ApiFunction"), context, sim, stack)


def error_page_message(answer: ApiAnswer) -> str:
    """The message of the callback's HTML error page."""
    if not answer.headers.get("content-type", "").startswith("text/html"):
        raise AssertionError(f"not an HTML page: {answer.status} {answer.text}")
    found = re.search(r'<p id="message"[^>]*>(.*?)</p>', answer.text, re.S)
    if found is None:
        raise AssertionError(f"no message on the page: {answer.text}")
    return html.unescape(found.group(1))
