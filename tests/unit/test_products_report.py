"""The listings report reader: quoting, tabs and line breaks in titles, missing/extra columns, bad rows."""

from __future__ import annotations

import gzip
import io

import pytest
from storesync.amazon.errors import TransientAmazonError
from storesync.amazon.products_amazon import text_stream
from storesync.domain.products import (
    FBA,
    FBM,
    ListingsReportReader,
    ReportFormatError,
    ReportRow,
    SkippedRow,
    UnreadableRow,
    channel_of,
)

HEADER = "item-name\tseller-sku\tprice\tquantity\tasin1\tfulfillment-channel\tstatus\n"


def read(text: str, start_after: int = 0) -> list[ReportRow | SkippedRow]:
    return list(ListingsReportReader(io.StringIO(text, newline="")).records(start_after))


def test_plain_rows_become_report_rows():
    records = read(
        HEADER + "Mug\tSKU-1\t9.99\t7\tB01\tDEFAULT\tActive\nTent\tSKU-2\t120\t\tB02\tAMAZON_NA\tActive\n"
    )
    assert records == [
        ReportRow(1, "SKU-1", "B01", "Mug", "9.99", 7, FBM, "Active"),
        ReportRow(2, "SKU-2", "B02", "Tent", "120", None, FBA, "Active"),
    ]


def test_quoted_titles_keep_tabs_quotes_and_line_breaks():
    title_row = '"Trail ""Pro"" Backpack\t40L\nsecond line"\tSKU-Q\t5\t3\tB03\tDEFAULT\tActive\n'
    (row,) = read(HEADER + title_row)
    assert isinstance(row, ReportRow)
    assert row.title == 'Trail "Pro" Backpack\t40L\nsecond line'
    assert row.quantity == 3


def test_unquoted_tab_in_title_is_repaired_when_the_row_stays_consistent():
    (row,) = read(HEADER + "Grüner Rucksack\tÜbergröße\tSKU-T\t5\t2\tB04\tDEFAULT\tActive\n")
    assert isinstance(row, ReportRow)
    assert (row.sku, row.title, row.quantity) == ("SKU-T", "Grüner Rucksack\tÜbergröße", 2)


def test_missing_trailing_columns_read_as_blank_and_extra_empty_ones_are_dropped():
    records = read(HEADER + "Mug\tSKU-1\t9.99\t4\n" + "Cup\tSKU-2\t1\t2\tB05\tDEFAULT\tActive\t\t\n")
    assert [(r.sku, r.channel, r.quantity) for r in records if isinstance(r, ReportRow)] == [
        ("SKU-1", FBM, 4),
        ("SKU-2", FBM, 2),
    ]


def test_unreadable_rows_are_skipped_with_a_reason_and_the_rest_continues():
    text = HEADER + (
        "No sku\t\t1\t1\tB1\tDEFAULT\tActive\n"
        "Bad qty\tSKU-A\t1\tmany\tB2\tDEFAULT\tActive\n"
        "Neg qty\tSKU-B\t1\t-3\tB3\tDEFAULT\tActive\n"
        "Odd channel\tSKU-C\t1\t1\tB4\tMARS_FC\tActive\n"
        "Too\tmany\tcolumns\there\tSKU-D\t1\t1\tB5\tMARS\tX\n"
        "Good\tSKU-E\tnot-a-price\t1\tB6\tDEFAULT\tActive\n"
    )
    records = read(text)
    skipped = [r for r in records if isinstance(r, SkippedRow)]
    assert [(s.record, s.sku) for s in skipped] == [
        (1, None),
        (2, "SKU-A"),
        (3, "SKU-B"),
        (4, "SKU-C"),
        (5, None),
    ]
    assert "seller-sku is blank" in skipped[0].reason
    assert "'many' is not a whole number" in skipped[1].reason
    assert "negative" in skipped[2].reason
    assert "MARS_FC" in skipped[3].reason
    assert "columns" in skipped[4].reason
    assert "row 2 (SKU SKU-A) skipped" in skipped[1].notice().message
    (good,) = [r for r in records if isinstance(r, ReportRow)]
    assert (good.record, good.sku, good.price) == (6, "SKU-E", None)


def test_resuming_after_an_offset_numbers_records_as_the_first_pass_did():
    text = HEADER + "".join(f"T{i}\tSKU-{i}\t1\t{i}\tB{i}\tDEFAULT\tActive\n" for i in range(1, 8))
    text = text.replace("T3\t", '"T3\nwith break"\t')
    first = read(text)
    resumed = read(text, start_after=4)
    assert resumed == first[4:]
    assert [r.record for r in resumed] == [5, 6, 7]


def test_header_without_seller_sku_is_a_report_error_naming_the_column():
    with pytest.raises(ReportFormatError, match="seller-sku"):
        read("item-name\tprice\nMug\t1\n")
    with pytest.raises(ReportFormatError, match="empty"):
        read("")


def test_channel_mapping():
    assert channel_of("DEFAULT") == FBM
    assert channel_of("") == FBM
    assert channel_of("AMAZON_EU") == FBA
    with pytest.raises(UnreadableRow):
        channel_of("SOMETHING")


def test_text_stream_gunzips_chunks_declared_or_detected():
    text = HEADER + "Café\tSKU-1\t1\t2\tB1\tDEFAULT\tActive\n"
    packed = gzip.compress(text.encode("utf-8"))
    chunks = [packed[i : i + 7] for i in range(0, len(packed), 7)]
    for declared in (True, False):
        (row,) = list(ListingsReportReader(text_stream(iter(chunks), gzip=declared)).records())
        assert isinstance(row, ReportRow) and row.title == "Café"
    (plain,) = list(ListingsReportReader(text_stream(iter([text.encode()]), gzip=False)).records())
    assert isinstance(plain, ReportRow) and plain.sku == "SKU-1"


def test_a_gzip_report_that_ends_before_its_trailer_is_a_broken_download_not_a_shorter_report():
    text = HEADER + "".join(f"Title {n}\tSKU-{n}\t1\t2\tB{n}\tDEFAULT\tActive\n" for n in range(2000))
    packed = gzip.compress(text.encode("utf-8"))
    cut = packed[: len(packed) // 2]
    with pytest.raises(TransientAmazonError, match="broke off"):
        list(ListingsReportReader(text_stream(iter([cut]), gzip=True)).records())


def test_a_row_cut_short_before_its_quantity_leaves_the_quantity_unknown_never_0():
    records = read(HEADER + "Mug\tSKU-1\t9.99\t4\tB01\tDEFAULT\tActive\nCup\tSKU-2\t1.5")  # the document ends
    assert [(r.sku, r.channel, r.quantity) for r in records if isinstance(r, ReportRow)] == [
        ("SKU-1", FBM, 4),
        ("SKU-2", FBM, None),
    ]
