"""Issue 15 parts 1-3, as an attacker tries them, through the real ApiFunction handler, moto and the simulator:
an edited `selling_partner_id`, a consent link sent to another seller's browser, two callbacks racing for one
seller, and a merchant piling up stores that never get authorized."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import pytest
from fixtures_stores import (
    ACME,
    BRIGHT,
    CA,
    US,
    Api,
    connect_api,
    consent,
    error_page_message,
    issue_refresh_token,
    sim_factory,
)
from storesync.amazon.seller_account import SellerAccount
from storesync.clock import utcnow
from storesync.dal import store_queries
from storesync.dal.store_queries import MAX_PENDING_STORES, SellerTaken, get_store
from storesync.dal.stores import OAuthState, SellerAuthorization, Store
from storesync.domain.consent_state import BINDING_COOKIE_PREFIX
from storesync.usecases import connect


@pytest.fixture
def api(make_stack, spapi_sim, load_function, lambda_context) -> Api:
    return connect_api(make_stack, spapi_sim, load_function, lambda_context)


def _edited(location: str, **changes: str) -> str:
    parts = urlsplit(location)
    query = {**dict(parse_qsl(parts.query)), **changes}
    return urlunsplit(parts._replace(query=urlencode(query)))


def _raw_store(api: Api, merchant: str, store_id: str) -> dict:
    return boto3.client("dynamodb").get_item(
        TableName=f"{api.stack.stack_name}-stores",
        Key={"merchant_id": {"S": merchant}, "store_id": {"S": store_id}},
        ConsistentRead=True,
    )["Item"]


# part 1: consent bound to the browser ------------------------------------------------------------------------
def test_post_stores_sets_an_httponly_lax_secure_cookie_limited_to_the_callback(api):
    answer = api("POST", "/stores", body={"name": "Acme", "marketplace_id": US})
    assert answer.status == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    [cookie] = answer.cookies
    name, _, rest = cookie.partition("=")
    assert name.startswith(BINDING_COOKIE_PREFIX)
    attributes = [a.strip() for a in rest.split(";")[1:]]
    assert set(attributes) == {"Path=/amazon/callback", "Max-Age=600", "HttpOnly", "Secure", "SameSite=Lax"}
    secret = rest.split(";")[0]
    assert len(secret) >= 40
    # Only the secret's digest is stored with the state, never the secret.
    [state] = list(OAuthState.scan())
    assert state.browser_digest and secret not in state.browser_digest


def test_consent_link_opened_in_another_browser_is_refused_and_consumed(api):
    """The account-linking attack: merchant-1 starts a connect and sends the consent link to the holder of
    another seller account (BRIGHT), who approves in their own browser (no cookie of merchant-1's)."""
    created = api.create(US)
    location = consent(created["consent_url"], BRIGHT)
    answer = api.callback(location, cookies={})
    assert answer.status == 400
    message = error_page_message(answer)
    assert "different browser" in message and "Start the connection again" in message
    assert "Stores page" in answer.text
    store = get_store("merchant-1", created["store_id"])
    assert store.status == "pending_authorization"
    assert store.selling_partner_id is None and store.refresh_token_encrypted is None
    # The refused attempt used the state up: not even the right browser can use that link now.
    replay = api.callback(location)
    assert replay.status == 400
    assert "already used" in error_page_message(replay)
    assert get_store("merchant-1", created["store_id"]).status == "pending_authorization"


def test_wrong_or_foreign_cookie_is_refused(api):
    created = api.create(US)
    [name] = list(api.jar)
    location = consent(created["consent_url"], ACME)
    for cookies in [
        {name: "x" * 43},
        {name: ""},
        {BINDING_COOKIE_PREFIX + "0000000000000000": api.jar[name]},
    ]:
        again = api.create(US)  # each try consumes its state: a fresh one per try
        fresh_name = next(n for n in api.jar if n != name)
        location = consent(again["consent_url"], ACME)
        forged = {fresh_name if n == name else n: v for n, v in cookies.items()}
        answer = api.callback(location, cookies=forged)
        assert answer.status == 400, cookies
        assert "different browser" in error_page_message(answer)
        assert get_store("merchant-1", again["store_id"]).status == "pending_authorization"
        api.jar.pop(fresh_name)
    assert get_store("merchant-1", created["store_id"]).status == "pending_authorization"


def test_two_tabs_of_one_browser_each_connect_and_the_cookie_is_cleared(api):
    first = api.create(US, name="Acme US")
    second = api.create(CA, name="Acme CA")
    assert len(api.jar) == 2
    a = api.callback(consent(first["consent_url"], ACME))
    b = api.callback(consent(second["consent_url"], ACME))
    assert (a.status, b.status) == (302, 302)
    assert all("Max-Age=0" in c for c in a.cookies + b.cookies)
    assert api.jar == {}


def test_reauthorize_is_bound_to_the_browser_too(api):
    store_id, answer = api.connect(ACME, US)
    assert answer.status == 302
    again = api("POST", f"/stores/{store_id}/reauthorize")
    assert again.status == 200
    [cookie] = again.cookies
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/amazon/callback" in cookie
    refused = api.callback(consent(again.json()["consent_url"], ACME), cookies={})
    assert refused.status == 400 and "different browser" in error_page_message(refused)
    renewed = api("POST", f"/stores/{store_id}/reauthorize").json()
    assert api.callback(consent(renewed["consent_url"], ACME)).status == 302


def test_a_state_saved_before_browser_binding_is_refused(api):
    created = api.create(US)
    location = consent(created["consent_url"], ACME)
    [state] = list(OAuthState.scan())
    state.update(actions=[OAuthState.browser_digest.remove()])
    answer = api.callback(location)
    assert answer.status == 400 and "different browser" in error_page_message(answer)


# part 2: the seller proven by Amazon -------------------------------------------------------------------------
def test_edited_selling_partner_id_is_refused_and_never_blocks_the_real_seller(api):
    """A merchant approves with their own account (ACME) and edits the answer to name BRIGHT."""
    created = api.create(US, merchant="merchant-1")
    location = _edited(consent(created["consent_url"], ACME), selling_partner_id=BRIGHT)
    answer = api.callback(location)
    assert answer.status == 403
    message = error_page_message(answer)
    assert f"did not confirm that the account you signed in with is the seller account {BRIGHT}" in message
    store = get_store("merchant-1", created["store_id"])
    assert store.status == "pending_authorization"
    assert store.selling_partner_id is None and store.refresh_token_encrypted is None
    assert store.seller_key is None
    # BRIGHT itself connects (from another storesync account): not "already connected".
    real_id, real = api.connect(BRIGHT, US, merchant="merchant-2")
    assert real.status == 302, real.text
    assert get_store("merchant-2", real_id).selling_partner_id == BRIGHT


def test_missing_or_unknown_selling_partner_id_is_refused(api):
    for claimed in ["", "A9NOSUCHSELLER"]:
        created = api.create(US)
        location = _edited(consent(created["consent_url"], ACME), selling_partner_id=claimed)
        answer = api.callback(location)
        assert answer.status == 403, claimed
        message = error_page_message(answer)
        assert "did not connect" in message or "No store was connected" in message
        assert get_store("merchant-1", created["store_id"]).status == "pending_authorization"


def test_listings_api_answers_only_the_tokens_seller(api):
    """What the proof rests on, in the simulator as in Amazon: /items/{sellerId} of another seller is 403."""
    token = issue_refresh_token(api.sim, ACME)
    account = SellerAccount(sim_factory(api.sim).for_store(US, ACME, token))
    assert account.owns_seller_id(ACME, US) is True
    assert account.owns_seller_id(BRIGHT, US) is False


def test_seller_claimed_by_one_store_only_even_when_two_callbacks_race(api):
    """Stores of several storesync accounts authorized for one seller and marketplace, each having passed every
    check (the old code read "is it connected?" here, so all of them passed and all were activated): the claim
    is decided by the write's condition alone, exactly one wins and the others are told the seller is taken,
    nothing of theirs written. (The writes run one after another: moto applies transactions without isolation,
    so truly simultaneous ones are DynamoDB's guarantee, TransactWriteItems being serializable.)"""
    stores = [
        store_queries.create_store(
            f"merchant-{i}",
            f"st_race{i}",
            name=f"race {i}",
            marketplace_id=US,
            region="NA",
            download_products_and_orders=True,
            starting_inventory="keep",
            created_at=utcnow(),
        )
        for i in range(6)
    ]
    outcomes: dict[str, str] = {}
    for store in stores[3:] + stores[:3]:
        try:
            store_queries.authorize(
                store, selling_partner_id=ACME, seller_key=f"{ACME}#NA", refresh_token_encrypted=b"x"
            )
            outcomes[store.store_id] = "won"
        except SellerTaken as taken:
            assert (taken.merchant_id, taken.store_id) == ("merchant-3", "st_race3")
            outcomes[store.store_id] = "taken"
    assert sorted(outcomes.values()) == ["taken"] * 5 + ["won"]
    assert outcomes["st_race3"] == "won"
    active = [s for s in Store.scan() if s.status == "active"]
    assert [s.store_id for s in active] == ["st_race3"]
    losers = [s for s in Store.scan() if s.store_id != "st_race3"]
    assert all(s.seller_key is None and s.refresh_token_encrypted is None for s in losers)
    assert SellerAuthorization.get(f"{ACME}#NA#{US}").claimed_by_store == "st_race3"


def test_racing_callback_loser_sees_already_connected_and_stays_pending(api):
    first = api.create(US, merchant="merchant-1")
    first_location = consent(first["consent_url"], ACME)
    jar_1 = dict(api.jar)
    api.jar.clear()
    second = api.create(US, merchant="merchant-2")
    second_location = consent(second["consent_url"], ACME)
    assert api.callback(first_location, cookies=jar_1).status == 302
    lost = api.callback(second_location)
    assert lost.status == 409
    assert "already connected by another storesync account" in error_page_message(lost)
    store = get_store("merchant-2", second["store_id"])
    assert store.status == "pending_authorization" and store.refresh_token_encrypted is None


# part 3: stores waiting for consent are bounded ---------------------------------------------------------------
def test_at_most_twenty_stores_wait_for_consent(api):
    for i in range(MAX_PENDING_STORES):
        api.create(US, name=f"store {i}")
    refused = api("POST", "/stores", body={"name": "one too many", "marketplace_id": US})
    assert refused.status == 409
    error = refused.json()["error"]
    assert error["code"] == "too_many_pending_stores"
    assert "20 stores waiting" in error["message"] and "24 hours" in error["message"]
    assert refused.cookies == []
    # Another merchant is not affected, and an authorized store frees a place.
    assert (
        api("POST", "/stores", merchant="merchant-2", body={"name": "x", "marketplace_id": US}).status == 201
    )


def test_a_connected_store_frees_its_pending_place(api):
    for i in range(MAX_PENDING_STORES - 1):
        api.create(US, name=f"store {i}")
    store_id, answer = api.connect(ACME, US)  # the 20th, authorized
    assert answer.status == 302
    assert api("POST", "/stores", body={"name": "20th pending", "marketplace_id": CA}).status == 201
    assert api("POST", "/stores", body={"name": "21st pending", "marketplace_id": CA}).status == 409


def test_pending_stores_expire_after_24_hours_and_lose_the_expiry_when_authorized(api, monkeypatch):
    pending = api.create(US, name="never authorized")
    store_id, answer = api.connect(ACME, CA)
    assert answer.status == 302
    raw_pending = _raw_store(api, "merchant-1", pending["store_id"])
    created = get_store("merchant-1", pending["store_id"]).created_at
    assert int(raw_pending["expires_at"]["N"]) == int((created + timedelta(hours=24)).timestamp())
    assert "expires_at" not in _raw_store(api, "merchant-1", store_id)  # authorized: kept

    later = utcnow() + timedelta(hours=24, seconds=1)
    monkeypatch.setattr(store_queries, "utcnow", lambda: later)
    monkeypatch.setattr(connect, "utcnow", lambda: later)
    listed = api("GET", "/stores").json()["stores"]
    assert [s["store_id"] for s in listed] == [store_id]  # before DynamoDB's TTL sweeper ran
    assert api("GET", f"/stores/{pending['store_id']}").status == 404
    assert api("GET", f"/stores/{store_id}").status == 200
    # Expired stores no longer count against the limit.
    for i in range(MAX_PENDING_STORES):
        assert api("POST", "/stores", body={"name": f"s{i}", "marketplace_id": US}).status == 201
    assert api("POST", "/stores", body={"name": "21st", "marketplace_id": US}).status == 409
