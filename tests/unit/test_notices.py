"""Notices (a store's warnings, the sync log's entries): templates, the replace-by-code rule, old plain texts."""

from __future__ import annotations

import pytest
from storesync.dal.notices import NoticesAttribute
from storesync.domain.notices import (
    TEMPLATES,
    Notice,
    NoticeCode,
    distinct,
    inventory_warnings,
    legacy_notice,
    notice,
    of_kinds,
    replace_notices,
    stored_notice,
)


def test_every_code_has_one_template():
    assert set(TEMPLATES) == set(NoticeCode)


@pytest.mark.parametrize(
    ("made", "words"),
    [
        (
            notice(NoticeCode.NOTIFICATIONS_UNSUBSCRIBED, reason="Access denied"),
            "Near-real-time order updates (Amazon ORDER_CHANGE notifications) could not be set up: Access denied. "
            "Orders still arrive with the scheduled sync every 30 minutes.",
        ),
        (
            notice(NoticeCode.LISTING_REJECTED, sku="SKU-1", reason="bad product type"),
            "Inventory: Amazon rejected SKU SKU-1: bad product type",
        ),
        (
            notice(NoticeCode.UNIFIED_QUANTITY_DISAGREEMENT, stores=["Acme CA", "Acme MX"]),
            "Inventory: this store shares SKUs with Acme CA, Acme MX (same Amazon seller account and region), "
            "but their inventory settings (buffer, maximum quantity or warehouses) differ. Amazon keeps one "
            "quantity per SKU for them, so storesync pushes the lowest of the stores' quantities.",
        ),
        (
            notice(NoticeCode.FBA_AND_FBM_SKU, count=2, skus=["A", "B"]),
            "Products: 2 SKU(s) are FBA in one store and merchant-fulfilled in another (e.g. A, B); "
            "check which stock each store uses.",
        ),
        (
            notice(NoticeCode.QUANTITY_REJECTED, quantity=7, sku="S", reason="no"),
            "Amazon rejected quantity 7 for SKU S: no",
        ),
        (
            notice(NoticeCode.ORDER_UNKNOWN_SKUS, order_id="111-1", skus=["X", "Y"]),
            "Order 111-1: unknown SKU X, Y; created with an unknown_sku hold",
        ),
        (
            notice(NoticeCode.SHIPMENT_RETRYING, order_id="111-1", package="p1", reason="busy", attempt=2),
            "Order 111-1, package p1: busy (attempt 2, retrying)",
        ),
        (
            notice(NoticeCode.INVENTORY_FEED_REFUSED, feed_id="F1", status="DONE", reason="bad header"),
            "Amazon did not process the inventory feed F1 (DONE: bad header); it is sent again.",
        ),
        (
            notice(NoticeCode.INVENTORY_FEED_FAILED, feed_id="F1", status="FATAL"),
            "Amazon did not process the inventory feed F1 (FATAL); it is sent again.",
        ),
        (
            notice(NoticeCode.AUTHORIZATION_REVOKED),
            "Amazon no longer accepts this store's authorization: reauthorize the store.",
        ),
    ],
)
def test_the_message_is_made_from_code_and_parameters(made: Notice, words: str):
    assert made.message == words
    assert made.to_dict() == {"code": made.code.value, "params": dict(made.params), "message": words}


def test_a_notice_needs_every_parameter_its_template_names():
    with pytest.raises(ValueError, match="sku"):
        notice(NoticeCode.LISTING_REJECTED, reason="no")


def test_replace_by_code_and_parameters_keeps_the_others_in_order():
    sku_a = notice(NoticeCode.LISTING_REJECTED, sku="A", reason="no")
    sku_b = notice(NoticeCode.LISTING_REJECTED, sku="B", reason="no")
    other = notice(NoticeCode.NOTIFICATIONS_UNSUBSCRIBED, reason="denied")
    again_b = notice(NoticeCode.LISTING_REJECTED, sku="B", reason="still no")

    def rejected_b(n: Notice) -> bool:
        return n.kind == NoticeCode.LISTING_REJECTED and n.params.get("sku") == "B"

    assert replace_notices([sku_a, other, sku_b], rejected_b, [again_b]) == [sku_a, other, again_b]
    assert replace_notices([sku_a, other], of_kinds(NoticeCode.NOTIFICATIONS_UNSUBSCRIBED)) == [sku_a]


def test_an_inventory_push_replaces_the_rejections_of_the_skus_it_pushed_and_the_sharing_warning():
    old_a = notice(NoticeCode.LISTING_REJECTED, sku="A", reason="old")
    old_b = legacy_notice("Inventory: Amazon rejected SKU B: old words")
    untouched = notice(NoticeCode.LISTING_REJECTED, sku="C", reason="still")
    sharing = notice(NoticeCode.UNIFIED_QUANTITY_DISAGREEMENT, stores=["Acme CA"])
    unsubscribed = notice(NoticeCode.NOTIFICATIONS_UNSUBSCRIBED, reason="denied")
    current = [old_a, old_b, untouched, sharing, unsubscribed]

    after = inventory_warnings(current, {"B": "new words"}, accepted=["A"], sharing=None, mid_pass=False)
    assert after == [
        untouched,
        unsubscribed,
        notice(NoticeCode.LISTING_REJECTED, sku="B", reason="new words"),
    ]

    kept_mid_pass = inventory_warnings(current, {}, accepted=[], sharing=None, mid_pass=True)
    assert kept_mid_pass == current
    other = notice(NoticeCode.UNIFIED_QUANTITY_DISAGREEMENT, stores=["Acme MX"])
    replaced = inventory_warnings(current, {}, accepted=[], sharing=other, mid_pass=True)
    assert replaced == [old_a, old_b, untouched, unsubscribed, other]


def test_distinct_sorts_by_message_and_drops_repeats():
    a = notice(NoticeCode.LISTING_REJECTED, sku="A", reason="no")
    b = notice(NoticeCode.LISTING_REJECTED, sku="B", reason="no")
    assert distinct([b, a, b]) == [a, b]


def test_an_old_plain_text_is_a_legacy_notice_its_writer_still_replaces():
    text = "Inventory: Amazon rejected SKU SKU-9: The product type is wrong"
    old = legacy_notice(text)
    assert old.code == NoticeCode.LEGACY and old.message == text
    assert old.kind == NoticeCode.LISTING_REJECTED and old.params["sku"] == "SKU-9"
    unsubscribed = legacy_notice(
        "Near-real-time order updates (Amazon ORDER_CHANGE notifications) could not be set up: x. "
        "Orders still arrive with the scheduled sync every 30 minutes."
    )
    assert unsubscribed.kind == NoticeCode.NOTIFICATIONS_UNSUBSCRIBED
    anything = legacy_notice("Something a past version said")
    assert anything.kind == NoticeCode.LEGACY and anything.params == {"text": "Something a past version said"}
    assert replace_notices([anything, unsubscribed], of_kinds(NoticeCode.NOTIFICATIONS_UNSUBSCRIBED)) == [
        anything
    ]


def test_a_stored_code_this_version_does_not_know_keeps_its_message():
    assert stored_notice("vanished_code", {"x": 1}, "Old words").message == "Old words"
    assert stored_notice("listing_rejected", {"sku": "A"}, "Half a notice").message == "Half a notice"
    kept = stored_notice("listing_rejected", {"sku": "A", "reason": "no"}, "ignored")
    assert kept == notice(NoticeCode.LISTING_REJECTED, sku="A", reason="no")


def test_stored_as_maps_and_read_back_with_old_plain_strings_among_them():
    attribute = NoticesAttribute()
    notices = [
        notice(NoticeCode.FBA_AND_FBM_SKU, count=3, skus=["A", "B"]),
        notice(NoticeCode.SHIPMENT_RETRYING, order_id="1", package="p", reason="busy", attempt=2),
    ]
    stored = attribute.serialize(notices)
    assert stored[0]["M"]["code"] == {"S": "fba_and_fbm_sku"}
    assert stored[0]["M"]["message"] == {"S": notices[0].message}
    read = attribute.deserialize([*stored, {"S": "Products: 1 SKU(s) are listed in several marketplaces"}])
    assert read[:2] == notices
    assert read[2].code == NoticeCode.LEGACY and read[2].kind == NoticeCode.SKU_IN_SEVERAL_MARKETPLACES


def test_clipped_cuts_long_texts_only():
    long = notice(NoticeCode.QUANTITY_REJECTED, quantity=3, sku="S", reason="x" * 900).clipped(500)
    assert long.params == {"quantity": 3, "sku": "S", "reason": "x" * 500}
