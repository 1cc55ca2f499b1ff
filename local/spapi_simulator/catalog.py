"""Listings as Amazon holds them, per seller and marketplace (the ground truth of products and stock).

    catalog = Catalog(clock, seed=1, skus=20)            # tables are generated lazily, on first use
    table = catalog.table("A1NASELLER0001", "ATVPDKIKX0DER")
    listing = table.get("SKU-00001")                      # Listing: sku, asin, title, price, quantity, ...
    catalog.listings(seller_id, marketplace_id)           # every Listing of a table (a list, sku order)
    catalog.schedule_quantity(seller_id, marketplace_id, sku, 42, delay)   # what a listings patch does

A table keeps three sorted indexes so a search page costs the same whatever the number of listings:
by SKU, by creation stamp and by last-update stamp. Stamps are integer microseconds, unique and increasing
within a table, so an update is "remove one entry (bisect), append one entry". `quantity` is what Amazon
shows: the seller's pushed quantity for merchant-fulfilled listings (channel DEFAULT), the fulfillable FBA
quantity for Amazon-fulfilled listings (channel AMAZON_NA/AMAZON_EU/AMAZON_JP/AMAZON_FE).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .clock import Clock
from .sellers import MARKETPLACES, SELLERS_BY_ID

FBM_CHANNEL = "DEFAULT"
ACTIVE, INACTIVE, INCOMPLETE = "Active", "Inactive", "Incomplete"
STATUSES = (ACTIVE, INACTIVE, INCOMPLETE)
_REGION_FBA_CHANNEL = {"NA": "AMAZON_NA", "EU": "AMAZON_EU", "FE": "AMAZON_FE"}
_MARKETPLACE_FBA_CHANNEL = {"A1VC38T7YXB528": "AMAZON_JP"}


def fba_channel(seller_id: str, marketplace_id: str) -> str:
    """Amazon's fulfillment channel code for FBA listings of that seller in that marketplace."""
    region = SELLERS_BY_ID[seller_id].region if seller_id in SELLERS_BY_ID else "NA"
    return _MARKETPLACE_FBA_CHANNEL.get(marketplace_id, _REGION_FBA_CHANNEL[region])


def currency(marketplace_id: str) -> str:
    market = MARKETPLACES.get(marketplace_id)
    return market.currency if market else "USD"


@dataclass(frozen=True, slots=True)
class SkuLine:
    """One SKU as an order line (what generator.py builds orders from)."""

    sku: str
    asin: str
    title: str
    price: float
    fulfilled_by: str  # MERCHANT | AMAZON


@dataclass(slots=True)
class FbaStock:
    """Amazon's stock of an FBA listing besides the fulfillable units (Listing.quantity)."""

    fnsku: str
    inbound_working: int = 0
    inbound_shipped: int = 0
    inbound_receiving: int = 0
    reserved: int = 0
    researching: int = 0
    unfulfillable: int = 0


@dataclass(slots=True)
class Listing:
    sku: str
    asin: str
    title: str
    price: float
    quantity: int
    fulfillment_channel: str  # DEFAULT (FBM) or AMAZON_* (FBA)
    product_type: str
    status: str  # Active | Inactive | Incomplete
    created_stamp: int  # microseconds since the epoch, unique within the table
    updated_stamp: int
    fba: FbaStock | None = None
    attributes: dict[str, Any] | None = None  # attributes patched by the seller besides quantity/price

    @property
    def is_fba(self) -> bool:
        return self.fulfillment_channel != FBM_CHANNEL

    @property
    def created(self) -> float:
        return self.created_stamp / 1_000_000

    @property
    def last_updated(self) -> float:
        return self.updated_stamp / 1_000_000

    def to_json(self, seller_id: str, marketplace_id: str) -> dict[str, Any]:
        from .clock import iso

        data: dict[str, Any] = {
            "seller_id": seller_id,
            "marketplace_id": marketplace_id,
            "sku": self.sku,
            "asin": self.asin,
            "title": self.title,
            "price": self.price,
            "currency": currency(marketplace_id),
            "quantity": self.quantity,
            "fulfillment_channel": self.fulfillment_channel,
            "product_type": self.product_type,
            "status": self.status,
            "created": iso(self.created),
            "last_updated": iso(self.last_updated),
        }
        if self.fba is not None:
            data["fba"] = {
                "fnsku": self.fba.fnsku,
                "fulfillable": self.quantity,
                "inbound_working": self.fba.inbound_working,
                "inbound_shipped": self.fba.inbound_shipped,
                "inbound_receiving": self.fba.inbound_receiving,
                "reserved": self.fba.reserved,
                "researching": self.fba.researching,
                "unfulfillable": self.fba.unfulfillable,
            }
        return data


def status_for_quantity(status: str, quantity: int) -> str:
    """Amazon shows an FBM listing without stock as Inactive and back to Active once it has some."""
    if status == INCOMPLETE:
        return status
    return ACTIVE if quantity > 0 else INACTIVE


class ListingTable:
    """The listings of one seller in one marketplace, with sorted indexes (callers hold the catalog lock)."""

    def __init__(self, seller_id: str, marketplace_id: str) -> None:
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id
        self.by_sku: dict[str, Listing] = {}
        self.sorted_skus: list[str] = []
        self.fba_skus: list[str] = []  # sorted
        self.created_stamps = array("q")
        self.created_rows: list[Listing] = []
        self.updated_stamps = array("q")
        self.updated_rows: list[Listing] = []
        self.last_stamp = 0
        self.version = 0

    def __len__(self) -> int:
        return len(self.by_sku)

    def get(self, sku: str) -> Listing | None:
        return self.by_sku.get(sku)

    def next_stamp(self, when: float) -> int:
        self.last_stamp = max(int(when * 1_000_000), self.last_stamp + 1)
        return self.last_stamp

    def bulk_load(self, listings: list[Listing]) -> None:
        """Load generated listings (stamps already unique) in one sort per index."""
        for listing in listings:
            self.by_sku[listing.sku] = listing
        self.sorted_skus = sorted(self.by_sku)
        self.fba_skus = [sku for sku in self.sorted_skus if self.by_sku[sku].is_fba]
        by_created = sorted(self.by_sku.values(), key=lambda item: item.created_stamp)
        self.created_rows = by_created
        self.created_stamps = array("q", (item.created_stamp for item in by_created))
        by_updated = sorted(self.by_sku.values(), key=lambda item: item.updated_stamp)
        self.updated_rows = by_updated
        self.updated_stamps = array("q", (item.updated_stamp for item in by_updated))
        self.last_stamp = max(self.last_stamp, self.updated_stamps[-1] if by_updated else 0)
        self.last_stamp = max(self.last_stamp, self.created_stamps[-1] if by_created else 0)
        self.version += 1

    def add(self, listing: Listing, when: float) -> Listing:
        """Add a new listing created at `when` (stamps are assigned here)."""
        if listing.sku in self.by_sku:
            raise ValueError(f"sku: {listing.sku!r} already exists")
        listing.created_stamp = listing.updated_stamp = self.next_stamp(when)
        self.by_sku[listing.sku] = listing
        bisect.insort(self.sorted_skus, listing.sku)
        if listing.is_fba:
            bisect.insort(self.fba_skus, listing.sku)
        self.created_stamps.append(listing.created_stamp)
        self.created_rows.append(listing)
        self.updated_stamps.append(listing.updated_stamp)
        self.updated_rows.append(listing)
        self.version += 1
        return listing

    def touch(self, listing: Listing, when: float) -> None:
        """Record that `listing` changed at `when`: it moves to the end of the last-update index."""
        position = bisect.bisect_left(self.updated_stamps, listing.updated_stamp)
        if position < len(self.updated_rows) and self.updated_rows[position] is listing:
            del self.updated_stamps[position]
            del self.updated_rows[position]
        listing.updated_stamp = self.next_stamp(when)
        self.updated_stamps.append(listing.updated_stamp)
        self.updated_rows.append(listing)
        self.version += 1

    def set_channel(self, listing: Listing, channel: str) -> None:
        was_fba = listing.is_fba
        listing.fulfillment_channel = channel
        if was_fba and not listing.is_fba:
            self.fba_skus.remove(listing.sku)
        elif listing.is_fba and not was_fba:
            bisect.insort(self.fba_skus, listing.sku)

    def remove(self, sku: str) -> Listing | None:
        listing = self.by_sku.pop(sku, None)
        if listing is None:
            return None
        del self.sorted_skus[bisect.bisect_left(self.sorted_skus, sku)]
        if listing.is_fba:
            del self.fba_skus[bisect.bisect_left(self.fba_skus, sku)]
        for stamps, rows, stamp in (
            (self.created_stamps, self.created_rows, listing.created_stamp),
            (self.updated_stamps, self.updated_rows, listing.updated_stamp),
        ):
            position = bisect.bisect_left(stamps, stamp)
            if position < len(rows) and rows[position] is listing:
                del stamps[position]
                del rows[position]
        self.version += 1
        return listing


@dataclass(order=True)
class _DueChange:
    due: float
    seq: int
    seller_id: str
    marketplace_id: str
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """What an order needs to know of listing number n, computable without generating the table."""

    sku: str
    asin: str
    title: str
    price: float
    is_fba: bool
    product_type: str
    seller_number: int


TableFactory = Callable[[str, str], list[Listing]]
FactsFunction = Callable[[str, str, int], ProductFacts]
SELLABLE_LIMIT = 2000  # orders are generated over the first SKUs of each table ("best sellers")


class Catalog:
    """Every ListingTable of the world, generated on first use by `factory(seller_id, marketplace_id)`."""

    def __init__(
        self,
        clock: Clock,
        factory: TableFactory | None = None,
        *,
        facts: FactsFunction | None = None,
        size: int = 0,
    ) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._factory = factory
        self._facts = facts
        self.size = size
        self._tables: dict[tuple[str, str], ListingTable] = {}
        self._due: list[_DueChange] = []
        self._seq = itertools.count(1)

    def table(self, seller_id: str, marketplace_id: str) -> ListingTable:
        key = (seller_id, marketplace_id)
        table = self._tables.get(key)
        if table is not None:
            return table
        with self.lock:
            table = self._tables.get(key)
            if table is None:
                table = ListingTable(seller_id, marketplace_id)
                if self._factory is not None and marketplace_id in self._marketplaces_of(seller_id):
                    table.bulk_load(self._factory(seller_id, marketplace_id))
                self._tables[key] = table
            return table

    @staticmethod
    def _marketplaces_of(seller_id: str) -> tuple[str, ...]:
        seller = SELLERS_BY_ID.get(seller_id)
        return seller.marketplace_ids if seller else ()

    def listings(self, seller_id: str, marketplace_id: str) -> list[Listing]:
        """Every listing of that seller in that marketplace, in SKU order (a snapshot list)."""
        self.apply_due()
        with self.lock:
            table = self.table(seller_id, marketplace_id)
            return [table.by_sku[sku] for sku in table.sorted_skus]

    def get(self, seller_id: str, marketplace_id: str, sku: str) -> Listing | None:
        self.apply_due()
        return self.table(seller_id, marketplace_id).get(sku)

    def generated_tables(self) -> Iterator[ListingTable]:
        return iter(list(self._tables.values()))

    def is_generated(self, seller_id: str, marketplace_id: str) -> bool:
        return (seller_id, marketplace_id) in self._tables

    # what the order generator needs (generator.SellableCatalog) -------------------------------------------
    def sellable(self, seller_id: str, marketplace_id: str) -> list[SkuLine]:
        """SKUs a buyer can order: the first SELLABLE_LIMIT listings, without generating the whole table.

        Once a table exists (or was changed through the admin API) its current listings are used.
        """
        if marketplace_id not in self._marketplaces_of(seller_id):
            return []
        if self.is_generated(seller_id, marketplace_id) or self._facts is None:
            with self.lock:
                table = self.table(seller_id, marketplace_id)
                skus = table.sorted_skus[:SELLABLE_LIMIT]
                return [_line(table.by_sku[sku]) for sku in skus]
        lines = []
        for index in range(1, min(self.size, SELLABLE_LIMIT) + 1):
            facts = self._facts(seller_id, marketplace_id, index)
            fulfilled_by = "AMAZON" if facts.is_fba else "MERCHANT"
            lines.append(SkuLine(facts.sku, facts.asin, facts.title, facts.price, fulfilled_by))
        return lines

    def sku_line(self, seller_id: str, marketplace_id: str, sku: str) -> SkuLine | None:
        """One SKU as an order line (generates that table if needed)."""
        listing = self.get(seller_id, marketplace_id, sku)
        return _line(listing) if listing is not None else None

    # changes -----------------------------------------------------------------------------------------------
    def set_quantity(
        self, seller_id: str, marketplace_id: str, sku: str, quantity: int, when: float | None = None
    ) -> Listing | None:
        """Apply a quantity (status follows: Active with stock, Inactive without), changed at `when` (now)."""
        if quantity < 0:
            raise ValueError("quantity: must not be negative")
        with self.lock:
            table = self.table(seller_id, marketplace_id)
            listing = table.get(sku)
            if listing is None:
                return None
            listing.quantity = quantity
            listing.status = status_for_quantity(listing.status, quantity)
            table.touch(listing, self.clock.time() if when is None else when)
            return listing

    def ship_fba_units(self, seller_id: str, marketplace_id: str, sku: str, units: int) -> Listing | None:
        """Amazon shipped `units` of an FBA listing: its fulfillable quantity drops (never below 0)."""
        with self.lock:
            listing = self.table(seller_id, marketplace_id).get(sku)
            if listing is None or not listing.is_fba or units <= 0:
                return None
            return self.set_quantity(seller_id, marketplace_id, sku, max(0, listing.quantity - units))

    def schedule_quantity(
        self, seller_id: str, marketplace_id: str, sku: str, quantity: int, delay: float
    ) -> None:
        """Apply a quantity after `delay` seconds of the simulator's clock (0: now)."""
        if delay <= 0:
            self.set_quantity(seller_id, marketplace_id, sku, quantity)
            return
        with self.lock:
            due = self.clock.time() + delay
            heapq.heappush(
                self._due, _DueChange(due, next(self._seq), seller_id, marketplace_id, sku, quantity)
            )

    def apply_due(self) -> int:
        """Apply the scheduled quantity changes whose time has come; cheap when none is due."""
        now = self.clock.time()
        if not self._due or self._due[0].due > now:
            return 0
        applied = 0
        with self.lock:
            while self._due and self._due[0].due <= now:
                change = heapq.heappop(self._due)
                self.set_quantity(
                    change.seller_id, change.marketplace_id, change.sku, change.quantity, when=change.due
                )
                applied += 1
        return applied

    def upsert(self, seller_id: str, marketplace_id: str, sku: str, fields: dict[str, Any]) -> Listing:
        """Add or modify a listing (admin API); unknown or badly typed fields raise ValueError naming them."""
        allowed = {"asin", "title", "price", "quantity", "fulfillment_channel", "product_type", "status"}
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown listing field (known: {', '.join(sorted(allowed))})")
        _check_fields(fields)
        now = self.clock.time()
        with self.lock:
            table = self.table(seller_id, marketplace_id)
            listing = table.get(sku)
            if listing is None:
                channel = str(fields.get("fulfillment_channel", FBM_CHANNEL))
                quantity = int(fields.get("quantity", 0))
                listing = Listing(
                    sku=sku,
                    asin=str(fields.get("asin") or _asin_for(sku)),
                    title=str(fields.get("title", sku)),
                    price=float(fields.get("price", 10.0)),
                    quantity=quantity,
                    fulfillment_channel=channel,
                    product_type=str(fields.get("product_type", "PRODUCT")),
                    status=str(fields.get("status", status_for_quantity(ACTIVE, quantity))),
                    created_stamp=0,
                    updated_stamp=0,
                    fba=FbaStock(fnsku="X00" + _asin_for(sku)[3:]) if channel != FBM_CHANNEL else None,
                )
                return table.add(listing, now)
            for name in ("asin", "title", "product_type"):
                if name in fields:
                    setattr(listing, name, str(fields[name]))
            if "price" in fields:
                listing.price = float(fields["price"])
            if "fulfillment_channel" in fields:
                table.set_channel(listing, str(fields["fulfillment_channel"]))
                if listing.is_fba and listing.fba is None:
                    listing.fba = FbaStock(fnsku="X00" + listing.asin[3:])
            if "quantity" in fields:
                listing.quantity = int(fields["quantity"])
                listing.status = status_for_quantity(listing.status, listing.quantity)
            if "status" in fields:
                listing.status = str(fields["status"])
            table.touch(listing, now)
            return listing


def _line(listing: Listing) -> SkuLine:
    fulfilled_by = "AMAZON" if listing.is_fba else "MERCHANT"
    return SkuLine(listing.sku, listing.asin, listing.title, listing.price, fulfilled_by)


def _check_fields(fields: dict[str, Any]) -> None:
    if "quantity" in fields and (
        not isinstance(fields["quantity"], int)
        or isinstance(fields["quantity"], bool)
        or fields["quantity"] < 0
    ):
        raise ValueError("quantity: must be a non-negative integer")
    if "price" in fields and (not isinstance(fields["price"], int | float) or fields["price"] < 0):
        raise ValueError("price: must be a non-negative number")
    if "status" in fields and fields["status"] not in STATUSES:
        raise ValueError(f"status: must be one of {', '.join(STATUSES)}")
    channel = fields.get("fulfillment_channel")
    if channel is not None and not (
        channel == FBM_CHANNEL or (isinstance(channel, str) and channel.startswith("AMAZON_"))
    ):
        raise ValueError("fulfillment_channel: must be DEFAULT or AMAZON_NA/AMAZON_EU/AMAZON_FE/AMAZON_JP")
    for name in ("asin", "title", "product_type"):
        if name in fields and (not isinstance(fields[name], str) or not fields[name]):
            raise ValueError(f"{name}: must be a non-empty string")


def _asin_for(sku: str) -> str:
    import zlib

    return "B0" + format(zlib.crc32(sku.encode("utf-8")), "08X")
