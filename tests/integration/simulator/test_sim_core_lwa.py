"""Login with Amazon and consent, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from spapi_simulator import Simulator
from spapi_simulator.sellers import APPLICATION_ID, CLIENT_ID
from spapi_simulator.testing import admin, authorize, lwa_token

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
REDIRECT = "https://app.example.com/amazon/callback"


class FormReader(HTMLParser):
    """Collects the consent page's form: action, hidden inputs, select options, submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.options: list[str] = []
        self.buttons: dict[str, tuple[str, str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a["action"]
        elif tag == "input":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "option":
            self.options.append(a["value"])
        elif tag == "button":
            self.buttons[a["id"]] = (a["name"], a["value"])


def open_consent(sim: Simulator, **extra: str) -> tuple[requests.Response, FormReader]:
    params = {"application_id": APPLICATION_ID, "state": "st-42", "redirect_uri": REDIRECT, **extra}
    page = requests.get(f"{sim.url}/apps/authorize/consent", params=params, timeout=10)
    form = FormReader()
    form.feed(page.text)
    return page, form


def submit(sim: Simulator, form: FormReader, button: str, seller_id: str) -> requests.Response:
    name, value = form.buttons[button]
    data = {**form.fields, "selling_partner_id": seller_id, name: value}
    return requests.post(urljoin(sim.url, form.action), data=data, allow_redirects=False, timeout=10)


def test_consent_page_names_app_and_sellers_and_approve_redirects_with_code(spapi_sim: Simulator) -> None:
    page, form = open_consent(spapi_sim, version="beta")
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "storesync" in page.text and "Contoso Europe" in page.text
    assert set(form.options) == {s["seller_id"] for s in admin(spapi_sim, "GET", "sellers")}
    answer = submit(spapi_sim, form, "approve", "A3EUSELLER0003")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["st-42"] and query["selling_partner_id"] == ["A3EUSELLER0003"]
    tokens = lwa_token(
        spapi_sim, grant_type="authorization_code", code=query["spapi_oauth_code"][0], redirect_uri=REDIRECT
    )
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["refresh_token"]
    seller = requests.get(
        spapi_sim.url + PARTICIPATIONS, headers={"x-amz-access-token": body["access_token"]}
    )
    assert [p["marketplace"]["countryCode"] for p in seller.json()["payload"]] == [
        "GB",
        "DE",
        "FR",
        "IT",
        "ES",
    ]


def test_deny_redirects_with_an_error_and_no_code(spapi_sim: Simulator) -> None:
    _, form = open_consent(spapi_sim)
    answer = submit(spapi_sim, form, "deny", "A1NASELLER0001")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert answer.status_code == 302 and query["error"] == ["access_denied"] and query["state"] == ["st-42"]
    assert "spapi_oauth_code" not in query


def test_consent_rejects_an_unknown_application(spapi_sim: Simulator) -> None:
    page, _ = open_consent(spapi_sim, application_id="amzn1.sp.solution.other")
    assert page.status_code == 400 and "application_id" in page.text


def test_refresh_grant_gives_new_access_tokens_and_keeps_the_refresh_token(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim, "A4FESELLER0004")
    answer = lwa_token(spapi_sim, grant_type="refresh_token", refresh_token=auth.refresh_token)
    assert answer.status_code == 200
    body = answer.json()
    assert body["refresh_token"] == auth.refresh_token and body["access_token"] != auth.access_token
    seller = requests.get(
        spapi_sim.url + PARTICIPATIONS, headers={"x-amz-access-token": body["access_token"]}
    )
    assert seller.status_code == 200 and seller.json()["payload"][0]["storeName"] == "Nippon Goods"


def test_invalid_client(spapi_sim: Simulator) -> None:
    auth = authorize(spapi_sim)
    for client_id, secret in ((CLIENT_ID, "wrong"), ("amzn1.application-oa2-client.other", "x")):
        answer = requests.post(
            f"{spapi_sim.url}/auth/o2/token",
            data={"grant_type": "refresh_token", "refresh_token": auth.refresh_token, "client_id": client_id,
                  "client_secret": secret},
        )  # fmt: skip
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_invalid_grant_for_unknown_and_revoked_refresh_tokens(spapi_sim: Simulator) -> None:
    unknown = lwa_token(spapi_sim, grant_type="refresh_token", refresh_token="Atzr|never-issued")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"
    auth = authorize(spapi_sim, "A2NASELLER0002")
    other = authorize(spapi_sim, "A1NASELLER0001")
    assert admin(spapi_sim, "POST", "grants/A2NASELLER0002/revoke")["revoked"] == 1
    revoked = lwa_token(spapi_sim, grant_type="refresh_token", refresh_token=auth.refresh_token)
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"
    assert (
        lwa_token(spapi_sim, grant_type="refresh_token", refresh_token=other.refresh_token).status_code == 200
    )


def _code(sim: Simulator) -> str:
    _, form = open_consent(sim)
    location = submit(sim, form, "approve", "A1NASELLER0001").headers["Location"]
    return parse_qs(urlsplit(location).query)["spapi_oauth_code"][0]


def test_code_expires_after_five_minutes_on_the_simulated_clock(spapi_sim: Simulator) -> None:
    fresh, stale = _code(spapi_sim), _code(spapi_sim)
    admin(spapi_sim, "POST", "clock/advance", {"seconds": 299})
    assert lwa_token(spapi_sim, grant_type="authorization_code", code=fresh).status_code == 200
    admin(spapi_sim, "POST", "clock/advance", {"seconds": 2})
    expired = lwa_token(spapi_sim, grant_type="authorization_code", code=stale)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    assert "expired" in expired.json()["error_description"]


def test_code_can_be_used_once(spapi_sim: Simulator) -> None:
    code = _code(spapi_sim)
    assert lwa_token(spapi_sim, grant_type="authorization_code", code=code).status_code == 200
    again = lwa_token(spapi_sim, grant_type="authorization_code", code=code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_missing_wrong_and_expired_access_tokens_get_403(spapi_sim_factory: Callable[..., Simulator]) -> None:
    sim = spapi_sim_factory(token_ttl=60)
    auth = authorize(sim)
    url = sim.url + PARTICIPATIONS
    denied = {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}
    assert requests.get(url).json() == {"errors": [denied]}
    wrong = requests.get(url, headers={"x-amz-access-token": "Atza|forged"})
    assert wrong.status_code == 403 and wrong.json() == {"errors": [denied]}
    assert requests.get(url, headers=auth.headers).status_code == 200
    admin(sim, "POST", "clock/advance", {"seconds": 61})
    expired = requests.get(url, headers=auth.headers)
    assert expired.status_code == 403
    assert expired.json()["errors"][0]["details"] == "The access token you provided has expired."
    stats = admin(sim, "GET", "stats")
    assert (
        stats["calls"]["getMarketplaceParticipations"] == 4
        and stats["errors"]["getMarketplaceParticipations"] == 3
    )


def test_grantless_token_is_refused_on_seller_operations(spapi_sim: Simulator) -> None:
    grantless = lwa_token(
        spapi_sim, grant_type="client_credentials", scope="sellingpartnerapi::notifications"
    )
    assert grantless.status_code == 200 and "refresh_token" not in grantless.json()
    answer = requests.get(
        spapi_sim.url + PARTICIPATIONS, headers={"x-amz-access-token": grantless.json()["access_token"]}
    )
    assert answer.status_code == 403
    bad_scope = lwa_token(spapi_sim, grant_type="client_credentials", scope="nothing")
    assert bad_scope.status_code == 400 and bad_scope.json()["error"] == "invalid_scope"
