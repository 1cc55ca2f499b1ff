"""The LWA authorization_code exchange against the simulator, over public APIs only: the library's private
`AccessTokenClient._request` is never called, and LWA's refusals map to the adapter's errors."""

from __future__ import annotations

from typing import Any

import pytest
from fixtures_stores import TEST_REDIRECT_URI, sim_factory
from sp_api.auth import AccessTokenClient
from spapi_simulator.simulator import Simulator
from storesync.amazon.clients import LwaCredentials, SpApiFactory
from storesync.amazon.errors import AmazonRejected, AuthorizationRevoked
from storesync.amazon.seller_account import SellerAccount

SELLER = "A1NASELLER0001"
US = "ATVPDKIKX0DER"


def refuse(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("AccessTokenClient._request is private: storesync must not call it")


@pytest.fixture(autouse=True)
def no_private_token_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """During the exchange (the library itself still uses it for refresh grants inside its public get_auth)."""
    monkeypatch.setattr(AccessTokenClient, "_request", refuse)


def test_the_code_becomes_a_refresh_token_the_sp_api_accepts(
    spapi_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = sim_factory(spapi_sim)
    code = spapi_sim.world.issue_code(SELLER, TEST_REDIRECT_URI)
    refresh_token = factory.exchange_authorization_code(code.code, TEST_REDIRECT_URI)
    assert refresh_token in spapi_sim.world.grants
    # the token works for SP-API calls (the library's public get_auth refreshes it with its own _request)
    monkeypatch.undo()
    session = factory.for_store(US, SELLER, refresh_token)
    assert US in SellerAccount(session).participating_marketplaces()


def test_a_used_code_is_refused_as_a_revoked_authorization(spapi_sim: Simulator) -> None:
    factory = sim_factory(spapi_sim)
    code = spapi_sim.world.issue_code(SELLER, TEST_REDIRECT_URI)
    factory.exchange_authorization_code(code.code, TEST_REDIRECT_URI)
    with pytest.raises(AuthorizationRevoked, match="invalid_grant"):
        factory.exchange_authorization_code(code.code, TEST_REDIRECT_URI)


def test_another_redirect_uri_is_refused(spapi_sim: Simulator) -> None:
    code = spapi_sim.world.issue_code(SELLER, TEST_REDIRECT_URI)
    with pytest.raises(AuthorizationRevoked):
        sim_factory(spapi_sim).exchange_authorization_code(code.code, "https://elsewhere.example.com/cb")


def test_wrong_client_credentials_are_a_rejection_not_a_revocation(spapi_sim: Simulator) -> None:
    base = sim_factory(spapi_sim)
    factory = SpApiFactory(base.config, LwaCredentials(base.credentials.client_id, "not-the-secret"))
    code = spapi_sim.world.issue_code(SELLER, TEST_REDIRECT_URI)
    with pytest.raises(AmazonRejected, match="invalid_client"):
        factory.exchange_authorization_code(code.code, TEST_REDIRECT_URI)
