"""Incremental versus full planning, starting quantities and the SKU warnings (plain domain code)."""

from __future__ import annotations

from storesync.domain.notices import NoticeCode, legacy_notice, notice, of_kinds, replace_notices
from storesync.domain.products import (
    FBA,
    FBM,
    WARNING_CODES,
    ListingFacts,
    OtherListing,
    ProductFacts,
    ReportRow,
    SkuWarnings,
    plan_listings,
    starting_quantities,
)


def row(n: int, sku: str, quantity: int | None = 5, channel=FBM, title: str = "T") -> ReportRow:
    return ReportRow(n, sku, f"B{n}", title, "1.00", quantity, channel, "Active")


def test_incremental_adds_only_unknown_skus():
    stored = {"A": ListingFacts.from_row(row(1, "A", title="old"))}
    plan = plan_listings([row(1, "A", title="new"), row(2, "B")], "incremental", stored, {})
    assert [f.sku for f in plan.new_listings] == ["B"]
    assert plan.changed_listings == [] and plan.known == 1
    assert [p.sku for p in plan.new_products] == ["A", "B"]  # the merchant had neither product


def test_full_updates_changed_listings_and_reactivates_returning_ones():
    same = ListingFacts.from_row(row(1, "A"))
    stale = ListingFacts.from_row(row(2, "B", title="old"))
    gone = ListingFacts(**{**ListingFacts.from_row(row(3, "C")).__dict__, "status": "inactive"})
    products = {s: ProductFacts(s, "T", f"B{n}") for n, s in enumerate("ABC", 1)}
    plan = plan_listings([row(1, "A"), row(2, "B", title="new"), row(3, "C")], "full",
                         {"A": same, "B": stale, "C": gone}, products)  # fmt: skip
    assert plan.unchanged == 1
    assert {f.sku: (f.title, f.status) for f in plan.changed_listings} == {
        "B": ("new", "active"),
        "C": ("T", "active"),
    }
    assert plan.new_products == []


def test_full_keeps_the_fba_quantity_amazon_inventory_gave():
    stored = {"F": ListingFacts("F", "B1", "T", "1.00", FBA, "Active", 12)}
    plan = plan_listings(
        [row(1, "F", quantity=None, channel=FBA)], "full", stored, {"F": ProductFacts("F", "T", "B1")}
    )
    assert plan.unchanged == 1 and plan.changed_listings == []


def test_a_sku_twice_in_the_report_is_skipped_the_second_time():
    plan = plan_listings([row(1, "A"), row(2, "A")], "full", {}, {})
    assert len(plan.new_listings) == 1
    assert [(d.record, d.sku) for d in plan.duplicates] == [(2, "A")]


def test_starting_quantities_take_fbm_rows_only():
    rows = [row(1, "A", 4), row(2, "F", None, FBA), row(3, "Z", 0)]
    assert starting_quantities(rows) == {"A": 4, "Z": 0}


def test_warnings_for_mixed_channels_and_shared_unified_accounts_survive_the_cursor():
    tally = SkuWarnings()
    tally.observe(
        {"A": FBM, "B": FBA, "C": FBM},
        [
            OtherListing("A", FBA, "A2EUQ1WTGCTBG2", True),
            OtherListing("C", FBM, "A2EUQ1WTGCTBG2", True),
            OtherListing("B", FBA, "ATVPDKIKX0DER", False),
        ],
    )
    again = SkuWarnings.from_json(tally.to_json())
    notices = again.notices()
    messages = [n.message for n in notices]
    assert len(messages) == 2
    assert "1 SKU(s) are FBA in one store and merchant-fulfilled" in messages[0] and "A" in messages[0]
    assert "2 SKU(s) are listed in several marketplaces" in messages[1]
    assert [n.code for n in notices] == [NoticeCode.FBA_AND_FBM_SKU, NoticeCode.SKU_IN_SEVERAL_MARKETPLACES]
    assert notices[1].params == {"count": 2, "skus": ["A", "C"]}
    old = legacy_notice("Products: 7 SKU(s) are FBA in one store and merchant-fulfilled in another (e.g. X).")
    other = notice(NoticeCode.NOTIFICATIONS_UNSUBSCRIBED, reason="denied")
    assert replace_notices([other, old, *notices], of_kinds(*WARNING_CODES), notices) == [other, *notices]
    assert SkuWarnings().notices() == []
