"""Seeded, deterministic listings: `make_catalog(clock, seed=1, skus=20)` -> Catalog.

Per seller and marketplace `skus` listings. The seller's first marketplace lists SKU-00001..SKU-N; each
other marketplace of the same (unified) account shares about 60% of those SKUs (same SKU, ASIN and title)
and lists its own for the rest (SKU-CA-00007...). About 30% are FBA (channel AMAZON_NA/EU/JP/FE, with FBA
stock), and a few shared SKUs switch channel from one marketplace to another, so one SKU is both FBA and
FBM within the account. About 4% of titles carry the characters that break naive flat-file code: tabs,
double quotes, apostrophes and non-ASCII letters. Tables are generated lazily (first use of a seller and
marketplace), from random.Random streams keyed by (seed, seller, marketplace), so the result never depends
on the order in which tables are touched. Timestamps are relative to the catalog's creation time.
"""

from __future__ import annotations

import random
import zlib

from .catalog import (
    ACTIVE,
    FBM_CHANNEL,
    INACTIVE,
    INCOMPLETE,
    Catalog,
    FbaStock,
    Listing,
    ProductFacts,
    fba_channel,
)
from .clock import Clock
from .sellers import MARKETPLACES, SELLERS_BY_ID

FBA_SHARE = 0.3
SHARED_SHARE = 0.6
CHANNEL_SWITCH_SHARE = 0.03
ODD_TITLE_SHARE = 0.04
OUT_OF_STOCK_SHARE = 0.08
INCOMPLETE_SHARE = 0.02
DAY = 86_400.0

PRODUCT_TYPES = (
    "BACKPACK",
    "OUTDOOR_LIVING",
    "HOME",
    "KITCHEN",
    "LUGGAGE",
    "SHOES",
    "SPORTING_GOODS",
    "TOY_FIGURE",
)
_ADJECTIVES = ("Classic", "Ultralight", "Heavy Duty", "Compact", "Deluxe", "Eco", "Pro", "Everyday", "Rugged")
_MATERIALS = ("Cotton", "Steel", "Bamboo", "Nylon", "Ceramic", "Leather", "Recycled", "Canvas", "Oak")
_NOUNS = ("Backpack", "Water Bottle", "Tent", "Mug", "Lantern", "Blanket", "Chef Knife", "Duffel", "Sneaker")
_VARIANTS = ("Black", "Blue", "Large", "Small", "2-Pack", "40L", "350 ml", "Set of 4", "Olive")
_ODD_TITLES = (
    'Trail "Pro" Backpack\t40L',
    'Kids\' Camping Chair, "Junior" size',
    "Café Crème Mug – 350 ml",
    "Grüner Rucksack\tÜbergröße",
    "水筒 ステンレス 500ml",
    'Lantern 🏕 with "quoted" and\ttabbed text',
    "Señal Linterna \\ back\\slash",
)


def make_catalog(clock: Clock | None = None, seed: int = 1, skus: int = 20) -> Catalog:
    """A Catalog whose tables are generated on first use, `skus` listings per seller and marketplace."""
    clock = clock or Clock()
    anchor = clock.time()

    def factory(seller_id: str, marketplace_id: str) -> list[Listing]:
        return generate_listings(seed, seller_id, marketplace_id, skus, anchor)

    def facts(seller_id: str, marketplace_id: str, index: int) -> ProductFacts:
        return product_facts(seed, seller_id, marketplace_id, index)

    return Catalog(clock, factory, facts=facts, size=skus)


_M64 = (1 << 64) - 1


def _mix(value: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash (deterministic across runs, unlike hash())."""
    value = (value + 0x9E3779B97F4A7C15) & _M64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _M64
    return value ^ (value >> 31)


def _key(seed: int, text: str) -> int:
    return _mix(seed * 0x100000001B3 ^ zlib.crc32(text.encode("ascii")))


def product_facts(seed: int, seller_id: str, marketplace_id: str, index: int) -> ProductFacts:
    """SKU, ASIN, title, price and channel of listing number `index` (1-based), computed on its own.

    Orders pick SKUs through these facts without generating whole tables; generate_listings uses the same.
    """
    seller = SELLERS_BY_ID[seller_id]
    seller_number = list(SELLERS_BY_ID).index(seller_id) + 1
    product = _mix(_key(seed, seller_id) + index)
    market = _mix(_key(seed, f"{seller_id}/{marketplace_id}") + index)
    is_fba = (product & 0xFFFF) < FBA_SHARE * 0x10000
    price = round(3.0 + ((product >> 16) & 0xFFFF) / 0xFFFF * 297.0, 2)
    product_type = PRODUCT_TYPES[(product >> 32) % len(PRODUCT_TYPES)]
    primary = marketplace_id == seller.marketplace_ids[0]
    shared = primary or (market & 0xFFFF) < SHARED_SHARE * 0x10000
    if shared:
        sku, asin, title = f"SKU-{index:05d}", f"B0{seller_number:02d}{index:06d}", _title(product >> 40)
        if not primary and ((market >> 16) & 0xFFFF) < CHANNEL_SWITCH_SHARE * 0x10000:
            is_fba = not is_fba
    else:
        country = MARKETPLACES[marketplace_id].country_code if marketplace_id in MARKETPLACES else "XX"
        sku, asin, title = (
            f"SKU-{country}-{index:05d}",
            f"B1{seller_number:02d}{index:06d}",
            _title(market >> 40),
        )
    if marketplace_id == "A1VC38T7YXB528":
        price = float(round(price * 100))
    return ProductFacts(sku, asin, title, price, is_fba, product_type, seller_number)


def generate_listings(
    seed: int, seller_id: str, marketplace_id: str, count: int, anchor: float
) -> list[Listing]:
    """The listings of one seller in one marketplace (deterministic for the same arguments)."""
    rng = random.Random(f"{seed}/{seller_id}/{marketplace_id}")
    fba_code = fba_channel(seller_id, marketplace_id)
    listings: list[Listing] = []
    updated: list[float] = []
    for index in range(1, count + 1):
        facts = product_facts(seed, seller_id, marketplace_id, index)
        age_days = rng.uniform(1.0, 900.0)
        created = anchor - age_days * DAY
        updated.append(anchor - rng.uniform(0.0, min(age_days, 60.0)) * DAY)
        roll = rng.random()
        quantity = 0 if roll < OUT_OF_STOCK_SHARE else rng.randint(1, 300 if facts.is_fba else 500)
        status = INCOMPLETE if rng.random() < INCOMPLETE_SHARE else (ACTIVE if quantity else INACTIVE)
        fba = None
        if facts.is_fba:
            fba = FbaStock(
                fnsku=f"X0{facts.seller_number:02d}{index:06d}",
                inbound_working=rng.choice((0, 0, 0, 5, 20)),
                inbound_shipped=rng.choice((0, 0, 10)),
                inbound_receiving=rng.choice((0, 0, 0, 3)),
                reserved=rng.choice((0, 1, 2, 4)),
                researching=rng.choice((0, 0, 0, 1)),
                unfulfillable=rng.choice((0, 0, 1, 2)),
            )
        listings.append(
            Listing(
                sku=facts.sku,
                asin=facts.asin,
                title=facts.title,
                price=facts.price,
                quantity=quantity,
                fulfillment_channel=fba_code if facts.is_fba else FBM_CHANNEL,
                product_type=facts.product_type,
                status=status,
                created_stamp=int(created * 1_000_000),
                updated_stamp=0,
                fba=fba,
            )
        )
    _assign_stamps(listings, updated)
    return listings


_TITLES: dict[int, str] = {}  # one string per word combination (compact)


def _title(bits: int) -> str:
    if (bits & 0xFF) < ODD_TITLE_SHARE * 0x100:
        return _ODD_TITLES[(bits >> 8) % len(_ODD_TITLES)]
    key = (bits >> 8) & 0xFFFF
    title = _TITLES.get(key)
    if title is None:
        words = (
            _ADJECTIVES[key % len(_ADJECTIVES)],
            _MATERIALS[(key >> 4) % len(_MATERIALS)],
            _NOUNS[(key >> 8) % len(_NOUNS)],
            _VARIANTS[(key >> 12) % len(_VARIANTS)],
        )
        title = _TITLES[key] = f"{words[0]} {words[1]} {words[2]}, {words[3]}"
    return title


def _assign_stamps(listings: list[Listing], updated: list[float]) -> None:
    """Unique increasing microsecond stamps (created and last-updated), in time order."""
    last = 0
    for position in sorted(range(len(listings)), key=lambda i: listings[i].created_stamp):
        last = max(listings[position].created_stamp, last + 1)
        listings[position].created_stamp = last
    last = 0
    for position in sorted(range(len(listings)), key=updated.__getitem__):
        stamp = max(int(updated[position] * 1_000_000), listings[position].created_stamp, last + 1)
        listings[position].updated_stamp = last = stamp
