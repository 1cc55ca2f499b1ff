"""The whole connect path through the real ApiFunction handler, moto and the SP-API simulator's consent page."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
import requests
from fixtures_stores import ACME, BRIGHT, CA, CONTOSO, UK, US, Api, connect_api, consent, error_page_message
from spapi_simulator.sellers import APPLICATION_ID
from storesync.dal.store_queries import get_store
from storesync.dal.stores import SellerAuthorization


@pytest.fixture
def api(make_stack, spapi_sim, load_function, lambda_context) -> Api:
    return connect_api(make_stack, spapi_sim, load_function, lambda_context)


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


def test_other_merchants_store_is_404_everywhere(api):
    store_id, answer = api.connect(ACME, US, merchant="merchant-1")
    assert answer.status == 302
    for method, path, body in [
        ("GET", f"/stores/{store_id}", None),
        ("PATCH", f"/stores/{store_id}/settings", {"inventory_buffer": 1}),
        ("POST", f"/stores/{store_id}/reauthorize", None),
        ("POST", f"/stores/{store_id}/sync", {"job": "orders"}),
        ("GET", f"/stores/{store_id}/runs", None),
        ("DELETE", f"/stores/{store_id}", None),
    ]:
        other = api(method, path, merchant="merchant-2", body=body)
        assert other.status == 404, (method, path, other.text)
        assert other.json()["error"]["field"] == "store_id"
    assert api("GET", "/stores", merchant="merchant-2").json() == {"stores": [], "warnings": []}
    assert get_store("merchant-1", store_id).status == "active"
    assert api("GET", "/stores/st_doesnotexist").status == 404


def test_forged_state_is_refused_without_change(api):
    created = api.create(US)
    location = consent(created["consent_url"], ACME)
    query = dict(parse_qsl(urlsplit(location).query))
    nonce, expires, _signature = query["state"].split(".")
    for forged in [f"{nonce}.{expires}.AAAA", f"{nonce}.{int(expires) + 600}.{_signature}", "garbage", ""]:
        answer = api("GET", "/amazon/callback", merchant=None, query={**query, "state": forged})
        assert answer.status == 400
        assert "Nothing was changed" in error_page_message(answer) or "no state" in error_page_message(answer)
    assert get_store("merchant-1", created["store_id"]).status == "pending_authorization"
    # The genuine state still works once (forgeries did not consume it) ...
    assert api.callback(location).status == 302
    # ... and only once.
    replay = api.callback(location)
    assert replay.status == 400
    assert "already used" in error_page_message(replay)


def test_expired_state_is_refused(api, monkeypatch):
    created = api.create(US)
    location = consent(created["consent_url"], ACME)
    import storesync.domain.consent_state as consent_state

    later = consent_state.current_time() + 601
    monkeypatch.setattr(consent_state, "current_time", lambda: later)
    answer = api.callback(location)
    assert answer.status == 400
    assert "expired" in error_page_message(answer)
    store = get_store("merchant-1", created["store_id"])
    assert store.status == "pending_authorization" and store.refresh_token_encrypted is None


def test_marketplace_mismatch_names_the_sellers_marketplaces(api):
    created = api.create(CA)
    answer = api.callback(consent(created["consent_url"], BRIGHT))  # Bright Home sells in the US only
    assert answer.status == 409
    message = error_page_message(answer)
    assert "does not sell in Canada" in message and "United States (US, NA)" in message
    store = get_store("merchant-1", created["store_id"])
    assert store.status == "pending_authorization"
    assert store.refresh_token_encrypted is None and store.selling_partner_id is None
    assert "does not sell in Canada" in api("GET", f"/stores/{created['store_id']}").json()["status_reason"]


def test_deny_on_consent_page_leaves_store_pending(api):
    created = api.create(US)
    answer = api.callback(consent(created["consent_url"], ACME, decision="deny"))
    assert answer.status == 302
    outcome = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
    assert outcome["outcome"] == "denied" and outcome["store_id"] == created["store_id"]
    assert get_store("merchant-1", created["store_id"]).status == "pending_authorization"


def test_same_seller_and_marketplace_twice_is_refused(api):
    first, answer = api.connect(ACME, US)
    assert answer.status == 302
    second, answer = api.connect(ACME, US)
    assert answer.status == 409
    assert "already connected as your store" in error_page_message(answer)
    assert get_store("merchant-1", second).status == "pending_authorization"
    third, answer = api.connect(ACME, US, merchant="merchant-2")
    assert answer.status == 409
    assert "by another storesync account" in error_page_message(answer)
    # Once disconnected, the seller can be connected again.
    assert api("DELETE", f"/stores/{first}").status == 200
    fourth, answer = api.connect(ACME, US)
    assert answer.status == 302


def test_one_seller_in_two_marketplaces_and_two_sellers_in_one(api):
    us, a = api.connect(ACME, US)
    ca, b = api.connect(ACME, CA)
    other_us, c = api.connect(BRIGHT, US)
    assert (a.status, b.status, c.status) == (302, 302, 302)
    stores = {s["store_id"]: s for s in api("GET", "/stores").json()["stores"]}
    assert {stores[us]["marketplace_id"], stores[ca]["marketplace_id"]} == {US, CA}
    assert stores[other_us]["selling_partner_id"] == BRIGHT
    assert all(s["status"] == "active" for s in stores.values())


def test_order_change_subscribed_once_per_seller_and_region(api):
    api.connect(ACME, US)
    api.connect(ACME, CA)
    api.connect(BRIGHT, US)
    api.connect(CONTOSO, UK)
    subscriptions = list(api.sim.world.subscriptions.values())
    assert sorted(s.seller_id for s in subscriptions) == sorted([ACME, BRIGHT, CONTOSO])
    assert {s.notification_type for s in subscriptions} == {"ORDER_CHANGE"}
    arn = api.stack.arns["OrderNotificationsQueue"]
    assert {d.arn for d in api.sim.world.destinations.values()} == {arn}
    auth = SellerAuthorization.get(f"{ACME}#NA")
    assert auth.subscription_id in {s.subscription_id for s in subscriptions}


def test_subscription_failure_does_not_block_activation(api):
    requests.post(
        api.sim.url + "/_sim/faults",
        json={"error_rate_500": 1.0, "operations": ["createSubscription"]},
        timeout=5,
    ).raise_for_status()
    store_id, answer = api.connect(ACME, US)
    assert answer.status == 302
    shown = api("GET", f"/stores/{store_id}").json()
    assert shown["status"] == "active"
    assert any("ORDER_CHANGE" in w["message"] for w in shown["warnings"])
    assert [w["code"] for w in shown["warnings"]] == ["notifications_unsubscribed"]
    assert "reason" in shown["warnings"][0]["params"]
