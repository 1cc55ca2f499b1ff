"""The Amazon adapter against the simulator's failure shapes (POST /_sim/faults): each broken answer is a failed
call, tried again inside the quota gate, counted and typed, never an empty result; a revoked grant is
AuthorizationRevoked (even while a cached access token has not expired), an expired access token is refreshed
once. The adapters are the ones the Lambdas use (storesync.amazon), over real HTTP to the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fixtures_stores import ACME, US, issue_refresh_token, sim_factory
from spapi_simulator.simulator import Simulator
from spapi_simulator.testing import admin
from storesync.amazon.clients import SpApi
from storesync.amazon.errors import (
    AmazonAnswerInvalid,
    AmazonRejected,
    AnswerLost,
    AuthorizationRevoked,
    ReportFailed,
    Throttled,
    TransientAmazonError,
)
from storesync.amazon.orders import AmazonOrders
from storesync.amazon.products_amazon import SpApiProductsAmazon
from storesync.amazon.quota_gate import RETRY_DELAYS
from storesync.amazon.shipments import SpApiShipmentConfirmer
from storesync.domain.orders import AmazonOrder

ATTEMPTS = len(RETRY_DELAYS) + 1
SINCE = "2020-01-01T00:00:00Z"
TRACKING = "1Z999AA10123456784"


@pytest.fixture
def session(spapi_sim: Simulator) -> Iterator[SpApi]:
    """Acme's US session, as a Lambda opens it (its refresh token from the LWA authorization_code grant)."""
    yield sim_factory(spapi_sim).for_store(US, ACME, issue_refresh_token(spapi_sim, ACME))
    admin(spapi_sim, "POST", "faults", {"modes": {}} if _has_modes(spapi_sim) else {})


def _has_modes(sim: Simulator) -> bool:
    return "modes" in admin(sim, "GET", "faults")


def faults(sim: Simulator, **fields: Any) -> None:
    admin(sim, "POST", "faults", fields)


def mode(sim: Simulator, name: str, share: float, *operations: str) -> None:
    faults(sim, modes={name: {"share": share, "operations": list(operations) or None}})


def sim_stats(sim: Simulator) -> dict[str, Any]:
    stats: dict[str, Any] = admin(sim, "GET", "stats")
    return stats


def an_order_id(sim: Simulator, status: str = "UNSHIPPED") -> str:
    (order,) = admin(sim, "GET", "orders", seller_id=ACME, marketplace_id=US, status=status, limit=1)
    return str(order["order_id"])


# Authorization -------------------------------------------------------------------------------------------------
def test_an_expired_access_token_is_refreshed_once_and_the_call_goes_through(
    spapi_sim: Simulator, session: SpApi
) -> None:
    orders = AmazonOrders(session)
    order_id = an_order_id(spapi_sim)
    assert orders.get_order(order_id).order_id == order_id  # the access token is now cached
    admin(spapi_sim, "POST", "clock/advance", {"seconds": 3700})  # past its hour, inside the library's cache
    assert orders.get_order(order_id).order_id == order_id
    assert session.gate.access_refreshed == {"getOrder": 1} and session.gate.calls == {"getOrder": 3}


def test_a_revoked_grant_is_authorization_revoked(spapi_sim: Simulator, session: SpApi) -> None:
    admin(spapi_sim, "POST", f"grants/{ACME}/revoke")
    with pytest.raises(AuthorizationRevoked, match="invalid_grant"):
        AmazonOrders(session).get_order(an_order_id(spapi_sim))


def test_a_revoked_grant_refuses_the_cached_access_token_too(spapi_sim: Simulator, session: SpApi) -> None:
    orders = AmazonOrders(session)
    order_id = an_order_id(spapi_sim)
    orders.get_order(order_id)  # a valid access token is cached for the next hour
    admin(spapi_sim, "POST", f"grants/{ACME}/revoke")
    with pytest.raises(AuthorizationRevoked):
        orders.get_order(order_id)
    assert session.gate.access_refreshed == {
        "getOrder": 1
    }  # refused once, dropped, then LWA said invalid_grant
    assert sim_stats(spapi_sim)["errors"].get("getOrder") == 1


# Lost answers and server errors -------------------------------------------------------------------------------
def test_a_lost_answer_of_a_read_is_read_again(spapi_sim: Simulator, session: SpApi) -> None:
    order_id = an_order_id(spapi_sim)
    faults(spapi_sim, drop_rate=1.0, operations=["getOrder"])
    with pytest.raises(AnswerLost, match="getOrder"):
        AmazonOrders(session).get_order(order_id)
    assert session.gate.calls == {"getOrder": ATTEMPTS} and session.gate.gave_up == {"getOrder": 1}
    faults(spapi_sim, drop_rate=0.0)
    assert AmazonOrders(session).get_order(order_id).order_id == order_id


def confirmation(order: AmazonOrder) -> dict[str, Any]:
    """A confirmShipment body for the whole order in one package (reference "1")."""
    return {
        "marketplaceId": US,
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": TRACKING,
            "shipDate": "2026-07-10T12:00:00Z",
            "orderItems": [{"orderItemId": i.order_item_id, "quantity": i.quantity} for i in order.items],
        },
    }


def test_a_dropped_confirmation_is_never_sent_twice(spapi_sim: Simulator, session: SpApi) -> None:
    order = AmazonOrders(session).get_order(an_order_id(spapi_sim))
    faults(spapi_sim, drop_rate=1.0, operations=["confirmShipment"])
    with pytest.raises(AnswerLost, match="may have been performed"):
        SpApiShipmentConfirmer(session).confirm(order.order_id, confirmation(order))
    assert (
        sim_stats(spapi_sim)["calls"]["confirmShipment"] == 1 and session.gate.calls["confirmShipment"] == 1
    )


def test_a_server_error_is_tried_again_then_transient(spapi_sim: Simulator, session: SpApi) -> None:
    faults(spapi_sim, error_rate_503=1.0, operations=["searchOrders"])
    with pytest.raises(TransientAmazonError, match="searchOrders") as failed:
        AmazonOrders(session).search_orders(after=SINCE)
    assert failed.value.status == 503 and session.gate.failures == {"searchOrders": ATTEMPTS}
    assert sim_stats(spapi_sim)["calls"]["searchOrders"] == ATTEMPTS


def test_no_broken_answer_is_ever_read_as_an_empty_page(spapi_sim: Simulator, session: SpApi) -> None:
    """Some answers broken at random: each read gives the full page or raises, never fewer orders."""
    full = AmazonOrders(session).search_orders(after=SINCE, page_size=20)
    assert full.orders
    faults(spapi_sim, error_rate_500=0.3, drop_rate=0.3, operations=["searchOrders"])
    read, failed = 0, 0
    for _ in range(8):
        try:
            page = AmazonOrders(session).search_orders(after=SINCE, page_size=20)
        except TransientAmazonError:
            failed += 1
            continue
        assert [o.order_id for o in page.orders] == [o.order_id for o in full.orders]
        read += 1
    assert read >= 1 and session.gate.failures.get("searchOrders", 0) >= failed * ATTEMPTS


# The fault modes (simulator contract of issue 14) ----------------------------------------------------------------
def test_an_empty_body_is_invalid_read_again_then_raised(spapi_sim: Simulator, session: SpApi) -> None:
    order_id = an_order_id(spapi_sim)
    mode(spapi_sim, "empty_body", 1.0, "getOrder")
    with pytest.raises(AmazonAnswerInvalid, match="getOrder: Amazon answered an empty body") as invalid:
        AmazonOrders(session).get_order(order_id)
    assert invalid.value.operation == "getOrder" and invalid.value.request_id
    assert f"x-amzn-RequestId {invalid.value.request_id}" in str(invalid.value)
    assert session.gate.failures == {"getOrder": ATTEMPTS}
    assert sim_stats(spapi_sim)["faults"]["empty_body"] == ATTEMPTS
    mode(spapi_sim, "empty_body", 0.0)
    assert AmazonOrders(session).get_order(order_id).order_id == order_id


def test_a_truncated_page_is_invalid_never_an_empty_page(spapi_sim: Simulator, session: SpApi) -> None:
    mode(spapi_sim, "truncated_body", 1.0, "searchOrders")
    with pytest.raises(AmazonAnswerInvalid, match="searchOrders: Amazon answered not valid JSON"):
        AmazonOrders(session).search_orders(after=SINCE)
    assert sim_stats(spapi_sim)["faults"]["truncated_body"] == ATTEMPTS


def test_an_html_server_error_is_transient_and_named(spapi_sim: Simulator, session: SpApi) -> None:
    mode(spapi_sim, "html_5xx", 1.0, "getInventorySummaries")
    with pytest.raises(TransientAmazonError, match="an HTML page") as failed:
        SpApiProductsAmazon(session, ACME).fba_quantities(["ANY-SKU"])
    assert failed.value.status in (502, 503, 504) and failed.value.request_id
    assert session.gate.failures == {"getInventorySummaries": ATTEMPTS}


def test_a_429_without_rate_limit_headers_is_throttled(spapi_sim: Simulator, session: SpApi) -> None:
    mode(spapi_sim, "throttle_no_headers", 1.0, "getOrder")
    with pytest.raises(Throttled) as throttled:
        AmazonOrders(session).get_order(an_order_id(spapi_sim))
    assert throttled.value.retry_after >= 1.0 and session.gate.throttles == {"getOrder": 1}
    assert session.gate.wait_time("getOrder") > 0


def test_unknown_extra_fields_are_accepted(spapi_sim: Simulator, session: SpApi) -> None:
    plain = AmazonOrders(session).search_orders(after=SINCE, page_size=20)
    mode(spapi_sim, "extra_fields", 1.0)
    extra = AmazonOrders(session).search_orders(after=SINCE, page_size=20)
    assert not extra.unreadable and len(extra.orders) == len(plain.orders)
    for with_extra, without in zip(extra.orders, plain.orders, strict=True):
        assert replace(with_extra, address=None) == replace(without, address=None)
        # the buyer's address is kept as Amazon gives it (encrypted): every field it had is still there
        assert (with_extra.address or {}).items() >= (without.address or {}).items()
    assert any(o.address for o in plain.orders)
    assert sim_stats(spapi_sim)["faults"]["extra_fields"] >= 1


@pytest.mark.parametrize("ending", ["CANCELLED", "FATAL"])
def test_a_report_that_ends_cancelled_or_fatal_is_a_failed_report(
    spapi_sim: Simulator, session: SpApi, ending: str
) -> None:
    mode(spapi_sim, f"report_{ending.lower()}", 1.0)
    amazon = SpApiProductsAmazon(session, ACME)
    report_id = amazon.request_listings_report()
    for _ in range(30):
        state = amazon.report_state(report_id)
        if state.status not in ("IN_QUEUE", "IN_PROGRESS"):
            break
        admin(spapi_sim, "POST", "clock/advance", {"seconds": 60})
    assert state.status == ending and state.failed
    with pytest.raises(ReportFailed, match=f"report {report_id} ended {ending}"):
        state.raise_if_failed(report_id)


def sweep(session: SpApi) -> list[str]:
    """Every order of a searchOrders sweep, page by page (5 a page)."""
    orders = AmazonOrders(session)
    page = orders.search_orders(after=SINCE, page_size=5)
    found = [o.order_id for o in page.orders]
    while page.next_token:
        page = orders.search_orders(after=SINCE, page_size=5, token=page.next_token)
        found += [o.order_id for o in page.orders]
    return found


def test_page_tokens_with_slashes_pluses_and_equals_signs_go_back_intact(
    spapi_sim: Simulator, session: SpApi
) -> None:
    plain = sweep(session)
    assert len(plain) > 5
    mode(spapi_sim, "odd_page_tokens", 1.0)
    assert sweep(session) == plain and sim_stats(spapi_sim)["faults"]["odd_page_tokens"] >= 1


def test_an_expired_page_token_is_a_rejection_naming_the_parameter(
    spapi_sim: Simulator, session: SpApi
) -> None:
    first = AmazonOrders(session).search_orders(after=SINCE, page_size=5)
    assert first.next_token
    mode(spapi_sim, "expired_page_tokens", 1.0, "searchOrders")
    with pytest.raises(AmazonRejected, match="paginationToken") as rejected:
        AmazonOrders(session).search_orders(after=SINCE, page_size=5, token=first.next_token)
    assert rejected.value.status == 400 and session.gate.calls["searchOrders"] == 2  # not repeated


def test_a_confirmation_whose_answer_is_lost_was_performed_once_and_shows_in_the_packages(
    spapi_sim: Simulator, session: SpApi
) -> None:
    order = AmazonOrders(session).get_order(an_order_id(spapi_sim))
    confirmer = SpApiShipmentConfirmer(session)
    assert confirmer.packages(order.order_id) == []
    mode(spapi_sim, "lost_answer", 1.0, "confirmShipment")
    with pytest.raises(AnswerLost):
        confirmer.confirm(order.order_id, confirmation(order))
    assert session.gate.calls["confirmShipment"] == 1 and sim_stats(spapi_sim)["faults"]["lost_answer"] == 1
    (package,) = confirmer.packages(order.order_id)  # what the shipment push reads before confirming again
    assert (package.package_reference_id, package.tracking_number) == ("1", TRACKING)


def test_a_read_whose_answer_is_lost_is_read_again(spapi_sim: Simulator, session: SpApi) -> None:
    mode(spapi_sim, "lost_answer", 0.5, "searchOrders")
    plain = [o.order_id for o in AmazonOrders(session).search_orders(after=SINCE, page_size=20).orders]
    lost = sim_stats(spapi_sim)["faults"].get("lost_answer", 0)
    assert plain and session.gate.failures.get("searchOrders", 0) == lost


@pytest.mark.parametrize(
    ("operation", "read"),
    [
        ("getInventorySummaries", lambda amazon: amazon.fba_quantities(["SKU-00001"])),
        ("searchListingsItems", lambda amazon: amazon.product_types(["SKU-00001"])),
        ("getReport", lambda amazon: amazon.report_state(amazon.request_listings_report())),
    ],
)
def test_an_empty_product_answer_is_never_no_quantities_no_types_or_no_report(
    spapi_sim: Simulator, session: SpApi, operation: str, read: Any
) -> None:
    amazon = SpApiProductsAmazon(session, ACME)
    assert read(amazon) is not None  # the same read without faults answers
    mode(spapi_sim, "empty_body", 1.0, operation)
    with pytest.raises(AmazonAnswerInvalid, match=f"{operation}: Amazon answered an empty body"):
        read(amazon)
    assert session.gate.gave_up == {operation: 1}
