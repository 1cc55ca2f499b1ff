"""Products and listings from Amazon's GET_MERCHANT_LISTINGS_ALL_DATA report. Plain Python: no AWS, no HTTP.

- `ListingsReportReader` reads the tab-separated flat file record by record from any text stream: fields
  quoted the csv way (tabs, quotes or line breaks inside a title), rows with missing trailing columns (read
  as blank, except a quantity the row stops short of: unknown, never 0), extra columns (trailing empty ones
  dropped; an unquoted tab inside the title repaired when that makes the row consistent), and rows that
  cannot be read (skipped with a reason, never stopping the import). Records are numbered from 1 after the
  header, so a cursor can resume at a record offset.
- `channel_of` maps Amazon's fulfillment-channel (DEFAULT -> FBM, AMAZON_* -> FBA).
- `plan_listings` decides, for one slice of rows, which listings and products are new, changed or unchanged
  in incremental or full mode.
- `SkuWarnings` collects the warnings shown on a store: one SKU both FBA and FBM across the merchant's
  stores, and one SKU listed in several marketplaces of one unified account (they share a quantity).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TextIO

from storesync.domain.notices import Notice, NoticeCode, notice

Channel = Literal["FBM", "FBA"]
Mode = Literal["incremental", "full"]
FBM: Channel = "FBM"
FBA: Channel = "FBA"
MAX_SKU_LENGTH = 40  # Amazon's limit for seller-sku
MAX_FIELD_CHARS = 100_000  # a field longer than this is a runaway quote, not a title

SKU_COLUMN = "seller-sku"
TITLE_COLUMN = "item-name"
CHANNEL_COLUMN = "fulfillment-channel"
ASIN_COLUMNS = ("asin1", "product-id")


class ReportFormatError(ValueError):
    """The report as a whole cannot be read (no header, no seller-sku column)."""


class UnreadableRow(ValueError):
    """One row cannot be read; the message says why in plain words."""


def channel_of(fulfillment_channel: str) -> Channel:
    """Amazon's fulfillment-channel: DEFAULT (or blank, as old reports write it) -> FBM, AMAZON_* -> FBA."""
    code = fulfillment_channel.strip().upper()
    if code in ("", "DEFAULT"):
        return FBM
    if code.startswith("AMAZON_"):
        return FBA
    raise UnreadableRow(f"fulfillment-channel {fulfillment_channel!r} is neither DEFAULT nor AMAZON_*")


@dataclass(frozen=True)
class ReportRow:
    """One listing as the report gives it. `quantity` is None for FBA rows (Amazon leaves it blank) and for rows
    that stop before the quantity column (cut short: the quantity is unknown, never 0)."""

    record: int  # 1-based record number after the header
    sku: str
    asin: str | None
    title: str
    price: str | None  # decimal as text
    quantity: int | None
    channel: Channel
    amazon_status: str | None


@dataclass(frozen=True)
class SkippedRow:
    record: int
    reason: str
    sku: str | None = None  # when the SKU itself could be read

    def notice(self) -> Notice:
        """The sync log's entry for this row."""
        if self.sku:
            return notice(NoticeCode.REPORT_SKU_SKIPPED, record=self.record, sku=self.sku, reason=self.reason)
        return notice(NoticeCode.REPORT_ROW_SKIPPED, record=self.record, reason=self.reason)


ParsedRecord = ReportRow | SkippedRow


def _normalize_header(names: list[str]) -> list[str]:
    cleaned = [name.strip().lstrip("\ufeff").strip().lower() for name in names]
    if SKU_COLUMN not in cleaned:
        found = ", ".join(n for n in cleaned if n)[:200] or "nothing"
        raise ReportFormatError(f"the listings report has no {SKU_COLUMN} column (header: {found})")
    return cleaned


def _quantity(raw: str, channel: Channel) -> int | None:
    text = raw.strip()
    if not text:
        return None if channel == FBA else 0
    try:
        value = int(text)
    except ValueError:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise UnreadableRow(f"quantity {text!r} is not a whole number") from None
        if number != number.to_integral_value():
            raise UnreadableRow(f"quantity {text!r} is not a whole number") from None
        value = int(number)
    if value < 0:
        raise UnreadableRow(f"quantity {value} is negative")
    return value


def _price(raw: str) -> str | None:
    text = raw.strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None  # a price we cannot read does not stop the listing from being imported
    return str(number) if number.is_finite() and number >= 0 else None


class ListingsReportReader:
    """Iterate `ParsedRecord`s of a listings report read from `stream` (a text stream opened with newline='').

    `start_after` skips that many records (they are read, not interpreted): a resumed slice sees exactly the
    records a first pass would have numbered after it.
    """

    def __init__(self, stream: TextIO | Iterable[str]) -> None:
        csv.field_size_limit(MAX_FIELD_CHARS)
        self._reader = csv.reader(stream, delimiter="\t", quotechar='"', doublequote=True, strict=False)
        self._header: list[str] | None = None
        self.record = 0

    @property
    def header(self) -> list[str]:
        if self._header is None:
            self._header = self._read_header()
        return self._header

    def _read_header(self) -> list[str]:
        while True:
            try:
                first = next(self._reader)
            except StopIteration:
                raise ReportFormatError("the listings report is empty (no header row)") from None
            except csv.Error as exc:
                raise ReportFormatError(f"the listings report header cannot be read: {exc}") from None
            if any(cell.strip() for cell in first):
                return _normalize_header(first)

    def records(self, start_after: int = 0) -> Iterator[ParsedRecord]:
        header = self.header
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.record += 1
                if self.record > start_after:
                    yield SkippedRow(self.record, f"the row cannot be read ({exc})")
                continue
            if not any(cell.strip() for cell in cells):
                continue  # blank line: not a record
            self.record += 1
            if self.record <= start_after:
                continue
            yield self._interpret(header, cells)

    def _interpret(self, header: list[str], cells: list[str]) -> ParsedRecord:
        sku: str | None = None
        try:
            values = _fit_columns(header, cells)
            sku = values.get(SKU_COLUMN, "").strip() or None
            return _row(self.record, values)
        except UnreadableRow as exc:
            return SkippedRow(self.record, str(exc), sku if sku and len(sku) <= MAX_SKU_LENGTH else None)


def _fit_columns(header: list[str], cells: list[str]) -> dict[str, str]:
    """The row's cells by column name; columns the row stops short of are absent (not blank)."""
    width = len(header)
    if len(cells) > width:
        extra = cells[width:]
        if not any(cell.strip() for cell in extra):
            cells = cells[:width]
        else:
            cells = _repair_title_tabs(header, cells)
    return dict(zip(header, cells, strict=False))  # missing trailing columns: absent


def _repair_title_tabs(header: list[str], cells: list[str]) -> list[str]:
    """An unquoted tab inside item-name splits it: join the title back when that makes the row consistent."""
    extra = len(cells) - len(header)
    if TITLE_COLUMN in header and CHANNEL_COLUMN in header:
        at = header.index(TITLE_COLUMN)
        joined = [*cells[:at], "\t".join(cells[at : at + extra + 1]), *cells[at + extra + 1 :]]
        try:
            channel_of(joined[header.index(CHANNEL_COLUMN)])
        except UnreadableRow:
            pass
        else:
            if joined[header.index(SKU_COLUMN)].strip():
                return joined
    raise UnreadableRow(f"the row has {len(cells)} columns where the header has {len(header)}")


def _row(record: int, values: Mapping[str, str]) -> ReportRow:
    sku = values.get(SKU_COLUMN, "").strip()
    if not sku:
        raise UnreadableRow("seller-sku is blank")
    if len(sku) > MAX_SKU_LENGTH:
        raise UnreadableRow(f"seller-sku is longer than {MAX_SKU_LENGTH} characters")
    if any(ch in sku for ch in "\t\r\n"):
        raise UnreadableRow("seller-sku contains a tab or a line break")
    channel = channel_of(values.get(CHANNEL_COLUMN, ""))
    asin = next((values[c].strip() for c in ASIN_COLUMNS if values.get(c, "").strip()), None)
    status = values.get("status", "").strip() or None
    return ReportRow(
        record=record,
        sku=sku,
        asin=asin,
        title=values.get(TITLE_COLUMN, "").strip(),
        price=_price(values.get("price", "")),
        # a row that stops before its quantity (cut short) says nothing of it: unknown, never 0
        quantity=_quantity(values["quantity"], channel) if "quantity" in values else None,
        channel=channel,
        amazon_status=status,
    )


# planning ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListingFacts:
    """What the import compares of a stored listing (the DAL turns items into these and back)."""

    sku: str
    asin: str | None
    title: str
    price: str | None
    channel: Channel
    amazon_status: str | None
    amazon_quantity: int | None
    status: str = "active"  # active | inactive (left Amazon)

    @classmethod
    def from_row(cls, row: ReportRow) -> ListingFacts:
        return cls(row.sku, row.asin, row.title, row.price, row.channel, row.amazon_status, row.quantity)


@dataclass(frozen=True)
class ProductFacts:
    sku: str
    title: str
    asin: str | None


@dataclass
class SlicePlan:
    new_listings: list[ListingFacts] = field(default_factory=list)
    changed_listings: list[ListingFacts] = field(default_factory=list)
    new_products: list[ProductFacts] = field(default_factory=list)
    changed_products: list[ProductFacts] = field(default_factory=list)
    unchanged: int = 0
    known: int = 0  # incremental mode: listings the system has already (left alone)
    duplicates: list[SkippedRow] = field(default_factory=list)


def plan_listings(
    rows: Iterable[ReportRow],
    mode: Mode,
    stored_listings: Mapping[str, ListingFacts],
    stored_products: Mapping[str, ProductFacts],
) -> SlicePlan:
    """What to write for one slice of report rows.

    Incremental: only SKUs this store has no listing for are added (a product is created for the merchant
    when none has that SKU). Full: known listings are updated when Amazon's facts changed (a listing that had
    left Amazon and is back becomes active again), and products get the title/ASIN they lacked.
    FBA rows carry no quantity: the stored Amazon quantity (from FBA Inventory) is kept.
    """
    plan = SlicePlan()
    seen: set[str] = set()
    created: set[str] = set()
    for row in rows:
        if row.sku in seen:
            plan.duplicates.append(SkippedRow(row.record, "the SKU appears twice in the report", row.sku))
            continue
        seen.add(row.sku)
        incoming = ListingFacts.from_row(row)
        stored = stored_listings.get(row.sku)
        if stored is None:
            plan.new_listings.append(incoming)
        elif mode == "incremental":
            plan.known += 1
        else:
            merged = replace(
                incoming,
                amazon_quantity=stored.amazon_quantity if row.quantity is None else row.quantity,
            )
            if merged != stored:
                plan.changed_listings.append(merged)
            else:
                plan.unchanged += 1
        product = stored_products.get(row.sku)
        if product is None:
            if row.sku not in created:
                created.add(row.sku)
                plan.new_products.append(ProductFacts(row.sku, row.title, row.asin))
        elif mode == "full" and ((not product.title and row.title) or (not product.asin and row.asin)):
            plan.changed_products.append(
                ProductFacts(row.sku, product.title or row.title, product.asin or row.asin)
            )
    return plan


def starting_quantities(rows: Iterable[ReportRow]) -> dict[str, int]:
    """Starting inventory "match what is in Amazon": each FBM SKU's Amazon quantity (FBA stock is Amazon's)."""
    return {row.sku: row.quantity for row in rows if row.channel == FBM and row.quantity is not None}


# warnings ---------------------------------------------------------------------------------------------------
SAMPLE_SKUS = 5
WARNING_CODES = (NoticeCode.FBA_AND_FBM_SKU, NoticeCode.SKU_IN_SEVERAL_MARKETPLACES)  # the import's own


@dataclass(frozen=True)
class OtherListing:
    """A listing of the same SKU in another store of the merchant."""

    sku: str
    channel: Channel
    marketplace_id: str
    same_seller_account: bool  # the other store belongs to the same unified seller account (region)


@dataclass
class SkuWarnings:
    """Counts and a few example SKUs per warning kind; JSON-serializable through to_json / from_json."""

    mixed_channel: dict[str, Any] = field(default_factory=lambda: {"count": 0, "skus": []})
    shared_account: dict[str, Any] = field(default_factory=lambda: {"count": 0, "skus": []})

    def observe(self, channels: Mapping[str, Channel], others: Iterable[OtherListing]) -> None:
        mixed: set[str] = set()
        shared: set[str] = set()
        for other in others:
            mine = channels.get(other.sku)
            if mine is None:
                continue
            if other.channel != mine:
                mixed.add(other.sku)
            if other.same_seller_account:
                shared.add(other.sku)
        _tally(self.mixed_channel, mixed)
        _tally(self.shared_account, shared)

    def notices(self) -> list[Notice]:
        kinds = (
            (NoticeCode.FBA_AND_FBM_SKU, self.mixed_channel),
            (NoticeCode.SKU_IN_SEVERAL_MARKETPLACES, self.shared_account),
        )
        return [
            notice(code, count=int(entry["count"]), skus=list(entry["skus"]))
            for code, entry in kinds
            if entry["count"]
        ]

    def to_json(self) -> dict[str, Any]:
        return {"mixed_channel": dict(self.mixed_channel), "shared_account": dict(self.shared_account)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SkuWarnings:
        found = cls()
        for name in ("mixed_channel", "shared_account"):
            entry = (data or {}).get(name)
            if isinstance(entry, Mapping):
                getattr(found, name).update(
                    count=int(entry.get("count", 0)), skus=list(entry.get("skus", []))[:SAMPLE_SKUS]
                )
        return found


def _tally(entry: dict[str, Any], skus: set[str]) -> None:
    entry["count"] = int(entry["count"]) + len(skus)
    room = SAMPLE_SKUS - len(entry["skus"])
    if room > 0:
        entry["skus"] = [*entry["skus"], *sorted(skus)[:room]]
