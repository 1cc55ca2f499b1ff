"""Amazon's answers parsed at the adapter's boundary: typed results, and a malformed answer raises an error that
names the operation and the field, never an empty result. No HTTP: the library's clients are fakes."""

from __future__ import annotations

from typing import Any

import pytest
from fakes import FakeTime, amazon_order_json
from storesync.amazon.answers import (
    FeedProcessingReport,
    InventorySummaries,
    ListingsSearch,
    MarketplaceParticipation,
    parse_answer,
    parse_answer_list,
)
from storesync.amazon.clients import LwaCredentials, SpApi, SpApiConfig, SpApiFactory
from storesync.amazon.errors import AmazonAnswerInvalid, AmazonError, ReportFailed
from storesync.amazon.listings_transport import SpApiListingsTransport
from storesync.amazon.orders import AmazonOrders, OrderDataError, parse_orders_page
from storesync.amazon.products_amazon import ReportState, SpApiProductsAmazon
from storesync.amazon.quota_gate import InMemoryBucketStore, QuotaGate
from storesync.amazon.seller_account import SellerAccount
from storesync.amazon.shipments import OrderPackages, SpApiShipmentConfirmer

US = "ATVPDKIKX0DER"


class Answer:
    """What python-amazon-sp-api returns: the body in `payload`, the page token in `next_token`."""

    def __init__(self, payload: Any, next_token: str | None = None) -> None:
        self.payload = payload
        self.next_token = next_token


class FakeClient:
    """Every library method answers `payload`."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: Answer(self.payload)


def session_answering(payload: Any) -> SpApi:
    class Factory(SpApiFactory):
        def client(self, api: type, marketplace_id: str, refresh_token: str, **kwargs: Any) -> Any:
            return FakeClient(payload)

    factory = Factory(SpApiConfig(), LwaCredentials("client", "secret"))
    time = FakeTime()
    gate = QuotaGate("A1#NA", InMemoryBucketStore(), clock=time.clock, sleep=time.sleep)
    return SpApi(factory, US, "token", gate)


def test_a_search_page_keeps_the_orders_it_read_and_names_the_field_of_the_one_it_could_not() -> None:
    orders = [amazon_order_json("1"), amazon_order_json("2", orderItems=[]), amazon_order_json("3")]
    page = parse_orders_page({"orders": orders, "lastUpdatedBefore": "2026-07-10T11:58Z"}, next_token="T2")
    assert [o.order_id for o in page.orders] == ["1", "3"] and page.orders[0].items[0].quantity == 2
    assert [u.order_id for u in page.unreadable] == ["2"] and "order 2: orderItems: missing" in str(
        page.unreadable[0].error
    )
    assert page.next_token == "T2" and page.last_updated_before == "2026-07-10T11:58Z" and page.size == 3


def test_a_search_answer_without_orders_is_an_error_not_an_empty_page() -> None:
    with pytest.raises(OrderDataError, match="searchOrders: orders: missing"):
        parse_orders_page({"pagination": {}})


def test_get_order_returns_the_domain_order_or_names_what_is_missing() -> None:
    found = AmazonOrders(session_answering({"order": amazon_order_json("111-1")})).get_order("111-1")
    assert found.order_id == "111-1" and found.channel == "FBM"
    with pytest.raises(OrderDataError, match=r"order 111-1: fulfillment\.fulfillmentStatus"):
        bad = amazon_order_json("111-1", fulfillment={"fulfilledBy": "MERCHANT"})
        AmazonOrders(session_answering({"order": bad})).get_order("111-1")
    with pytest.raises(OrderDataError, match="getOrder answered without an order"):
        AmazonOrders(session_answering({})).get_order("111-1")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {"inventorySummaries": [{"totalQuantity": 3}]},
            "getInventorySummaries: inventorySummaries.0.sellerSku",
        ),
        ({}, "getInventorySummaries: inventorySummaries"),
    ],
)
def test_fba_summaries_name_the_missing_field(payload: dict[str, Any], field: str) -> None:
    amazon = SpApiProductsAmazon(session_answering(payload), "A1")
    with pytest.raises(AmazonAnswerInvalid, match=field.replace(".", r"\.")):
        amazon.fba_quantities(["A"])


def test_typed_answers_of_the_product_import() -> None:
    summaries = parse_answer(
        InventorySummaries,
        "getInventorySummaries",
        {"inventorySummaries": [
            {"sellerSku": "A", "totalQuantity": 9, "inventoryDetails": {"fulfillableQuantity": 4}},
            {"sellerSku": "B", "totalQuantity": 2},
            {"sellerSku": "C", "inventoryDetails": {}},
        ]},
    )  # fmt: skip
    assert [(s.seller_sku, s.fulfillable) for s in summaries.inventory_summaries] == [
        ("A", 4), ("B", 2), ("C", None)  # no quantity in the answer is no quantity, never 0
    ]  # fmt: skip
    search = parse_answer(
        ListingsSearch,
        "searchListingsItems",
        {"items": [{"sku": "A", "summaries": [{"marketplaceId": US, "productType": "SHIRT"}]}]},
    )
    assert search.items[0].summaries[0].product_type == "SHIRT"
    amazon = SpApiProductsAmazon(
        session_answering({"processingStatus": "DONE", "reportDocumentId": "D"}), "A1"
    )
    assert (amazon.report_state("R").status, amazon.report_state("R").document_id) == ("DONE", "D")
    with pytest.raises(AmazonAnswerInvalid, match="getReport: processingStatus: Field required"):
        SpApiProductsAmazon(session_answering({"reportId": "R"}), "A1").report_state("R")
    with pytest.raises(AmazonAnswerInvalid, match="createReport: reportId"):
        SpApiProductsAmazon(session_answering({}), "A1").request_listings_report()


def test_typed_answers_of_the_inventory_push() -> None:
    rejected = {"status": "INVALID", "issues": [{"code": "90220", "message": "bad", "severity": "ERROR"}]}
    transport = SpApiListingsTransport(session_answering(rejected), "A1")
    answer = transport.patch_quantity("A", "SHIRT", 3)
    assert not answer.accepted and answer.message == "bad"
    assert (
        SpApiListingsTransport(session_answering({"status": "ACCEPTED"}), "A1")
        .patch_quantity("A", "S", 1)
        .accepted
    )
    with pytest.raises(AmazonAnswerInvalid, match="patchListingsItem: status"):
        SpApiListingsTransport(session_answering({"sku": "A"}), "A1").patch_quantity("A", "SHIRT", 3)
    with pytest.raises(AmazonAnswerInvalid, match="getFeed: processingStatus"):
        SpApiListingsTransport(session_answering({"feedId": "F"}), "A1").feed_state("F")
    report = FeedProcessingReport.model_validate({"issues": [{"messageId": 2, "severity": "ERROR"}]})
    assert report.issues[0].message_id == 2 and report.summary.messages_processed is None


def test_marketplace_participations_and_subscriptions_are_typed() -> None:
    payload = [
        {"marketplace": {"id": US}, "participation": {"isParticipating": True}},
        {"marketplace": {"id": "A2EUQ1WTGCTBG2"}, "participation": {"isParticipating": False}},
        {"marketplace": {"id": US}},
    ]
    assert SellerAccount(session_answering(payload)).participating_marketplaces() == [US]
    with pytest.raises(AmazonAnswerInvalid, match=r"getMarketplaceParticipations: 0\.marketplace\.id"):
        parse_answer_list(MarketplaceParticipation, "getMarketplaceParticipations", [{"marketplace": {}}])
    assert SellerAccount(session_answering({"subscriptionId": "S1"})).order_change_subscription("D1") == "S1"
    with pytest.raises(AmazonAnswerInvalid, match="createDestination: destinationId"):
        SellerAccount(session_answering({"name": "storesync-orders"})).sqs_destination("arn:aws:sqs:x")


def test_an_orders_packages_are_typed_and_a_package_without_its_reference_is_an_error() -> None:
    answer = {"packages": [{"packageReferenceId": "1", "trackingNumber": "1Z1", "carrier": "UPS"}]}
    (package,) = parse_answer(OrderPackages, "getOrder", answer).packages
    assert (package.package_reference_id, package.tracking_number) == ("1", "1Z1")
    assert parse_answer(OrderPackages, "getOrder", {}).packages == []  # none shipped yet
    with pytest.raises(AmazonAnswerInvalid, match="getOrder: packages.0.packageReferenceId"):
        parse_answer(OrderPackages, "getOrder", {"packages": [{"trackingNumber": "1Z1"}]})


def test_a_report_that_ended_cancelled_or_fatal_is_a_typed_failure_never_no_products() -> None:
    for status in ("CANCELLED", "FATAL"):
        state = SpApiProductsAmazon(
            session_answering({"processingStatus": status, "reportDocumentId": "ERR"}), "A1"
        ).report_state("R9")
        assert state.failed
        with pytest.raises(ReportFailed, match=f"report R9 ended {status}") as failed:
            state.raise_if_failed("R9")
        assert isinstance(failed.value, AmazonError) and failed.value.status == status
        assert failed.value.document_id == ("ERR" if status == "FATAL" else None)
    ReportState("IN_PROGRESS").raise_if_failed("R9")
    assert not ReportState("DONE", "D").failed


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"processingStatus": "DONE"}, "getReport: reportDocumentId: missing on a DONE report"),
        ({"processingStatus": "WEIRD"}, "getReport: processingStatus: unknown status 'WEIRD'"),
        ({}, "getReport: processingStatus: Field required"),
    ],
)
def test_a_report_answer_that_cannot_be_read_is_invalid(payload: dict[str, Any], words: str) -> None:
    with pytest.raises(AmazonAnswerInvalid, match=words):
        SpApiProductsAmazon(session_answering(payload), "A1").report_state("R")


def test_a_listings_page_without_items_is_invalid_not_a_page_without_product_types() -> None:
    with pytest.raises(AmazonAnswerInvalid, match="searchListingsItems: items: Field required"):
        SpApiProductsAmazon(session_answering({"numberOfResults": 0}), "A1").product_types(["A"])
    assert SpApiProductsAmazon(session_answering({"items": []}), "A1").product_types(["A"]) == {}


def test_a_feed_processing_report_cut_short_is_invalid_not_a_report_without_issues() -> None:
    transport = SpApiListingsTransport(session_answering({}), "A1")
    session: Any = transport._spapi  # noqa: SLF001 - the fake's client answers the downloaded text
    session.client = lambda *args, **kwargs: FakeText('{"issues": [{"messageId": 1, "sev')
    with pytest.raises(AmazonAnswerInvalid, match="getFeedDocument: the processing report is not a JSON"):
        transport.feed_report("D")
    session.client = lambda *args, **kwargs: FakeText('{"issues": [], "summary": {"messagesProcessed": 2}}')
    assert transport.feed_report("D").summary.messages_processed == 2


class FakeText:
    """Feeds' get_feed_result_document: the downloaded document's text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def get_feed_result_document(self, document_id: str) -> str:
        return self.text


def test_an_order_answer_without_its_order_is_invalid_not_an_order_without_packages() -> None:
    confirmer = SpApiShipmentConfirmer(session_answering({"errors": None}))
    with pytest.raises(AmazonAnswerInvalid, match="getOrder"):
        confirmer.packages("111-1")
    shipped = {"order": {"packages": [{"packageReferenceId": "1", "trackingNumber": "1Z"}]}}
    assert [
        p.tracking_number for p in SpApiShipmentConfirmer(session_answering(shipped)).packages("111-1")
    ] == ["1Z"]
