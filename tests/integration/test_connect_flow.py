"""The whole connect path through the real ApiFunction handler, moto and the SP-API simulator's consent page."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urljoin, urlsplit

import boto3
import pytest
import requests
from fixtures_stores import call_api, sim_stack
from spapi_simulator.sellers import APPLICATION_ID
from storesync.dal.store_queries import get_store

US, CA, MX, UK = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A1F83G8C2ARO7P"
ACME, BRIGHT, CONTOSO = "A1NASELLER0001", "A2NASELLER0002", "A3EUSELLER0003"


class Api:
    def __init__(self, handler, context) -> None:
        self.handler, self.context = handler, context

    def __call__(self, method: str, path: str, **kwargs):
        return call_api(self.handler, self.context, method, path, **kwargs)

    def create(self, marketplace_id: str = US, merchant: str = "merchant-1", name: str = "My store", **extra):
        answer = self(
            "POST",
            "/stores",
            merchant=merchant,
            body={"name": name, "marketplace_id": marketplace_id, **extra},
        )
        assert answer.status == 201, answer.text
        return answer.json()

    def callback(self, location: str):
        query = dict(parse_qsl(urlsplit(location).query))
        return self("GET", "/amazon/callback", merchant=None, query=query)

    def connect(self, seller: str, marketplace_id: str = US, merchant: str = "merchant-1", **extra):
        created = self.create(marketplace_id, merchant, **extra)
        answer = self.callback(consent(created["consent_url"], seller))
        return created["store_id"], answer


def consent(consent_url: str, seller: str, decision: str = "approve") -> str:
    """Open the simulator's consent page over HTTP, pick `seller`, press Approve/Deny: the redirect Location."""
    page = requests.get(consent_url, timeout=10)
    assert page.status_code == 200, page.text
    fields = {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    assert seller in page.text
    form = {**fields, "selling_partner_id": seller, "decision": decision}
    answer = requests.post(
        urljoin(consent_url, "/apps/authorize/consent"), data=form, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


@pytest.fixture
def api(make_stack, spapi_sim, load_function, lambda_context):
    stack = sim_stack(make_stack, spapi_sim, SpApiApplicationId=APPLICATION_ID)
    api = Api(load_function("ApiFunction"), lambda_context)
    api.stack = stack
    api.sim = spapi_sim
    return api


def test_connect_activates_store_with_encrypted_token_never_shown(api):
    created = api.create(US, name="Acme US", starting_inventory="match_amazon")
    url = urlsplit(created["consent_url"])
    query = dict(parse_qsl(url.query))
    assert url.path == "/apps/authorize/consent"
    assert query["application_id"] == APPLICATION_ID
    assert query["redirect_uri"] == "https://abc123.execute-api.us-east-1.amazonaws.com/amazon/callback"
    assert created["store"]["status"] == "pending_authorization"

    answer = api.callback(consent(created["consent_url"], ACME))
    assert answer.status == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert dict(parse_qsl(location.query)) == {"outcome": "connected", "store_id": created["store_id"]}

    store = get_store("merchant-1", created["store_id"])
    assert store.status == "active"
    assert store.selling_partner_id == ACME and store.seller_key == f"{ACME}#NA"
    assert store.settings.starting_inventory == "match_amazon"
    raw = boto3.client("dynamodb").get_item(
        TableName=f"{api.stack.stack_name}-stores",
        Key={"merchant_id": {"S": "merchant-1"}, "store_id": {"S": created["store_id"]}},
    )["Item"]
    token = [g.refresh_token for g in api.sim.world.grants.values() if g.seller_id == ACME][-1]
    assert token.encode() not in raw["refresh_token_encrypted"]["B"]
    kms = boto3.client("kms")
    plain = kms.decrypt(
        CiphertextBlob=raw["refresh_token_encrypted"]["B"],
        EncryptionContext={"store_id": created["store_id"], "purpose": "refresh_token"},
    )["Plaintext"]
    assert plain.decode() == token

    shown = api("GET", f"/stores/{created['store_id']}")
    assert shown.status == 200
    assert shown.json()["status"] == "active"
    assert token not in shown.text and "refresh_token" not in shown.text
    listed = api("GET", "/stores")
    assert [s["store_id"] for s in listed.json()["stores"]] == [created["store_id"]]
    assert token not in listed.text
