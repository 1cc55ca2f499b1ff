"""The seeded, deterministic world generator.

Two parts that meet here:
- catalog (engineer B): `catalog_generator.make_catalog(clock, seed=, skus=)` -> catalog.Catalog, stored in
  `world.catalog`. Generated orders use `catalog.sellable(seller_id, marketplace_id)` (the first SKUs, computed
  without generating whole tables); admin-created orders take any listed SKU through `catalog.sku_line(seller,
  market, sku)`.
- orders (engineer A, below): `generate_orders` spreads `orders` orders per seller over its marketplaces and
  the past ORDER_DAYS days, with shares of pending, unshipped, partially shipped, cancelled, FBA (shipped by
  Amazon) and orders the seller shipped outside the WMS. Addresses and buyer names are derived from the order
  id when read (compact: 50,000 orders are a few flat objects each).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence

from .catalog import Catalog, SkuLine
from .catalog_generator import make_catalog
from .sellers import MARKETPLACES
from .world import CANCELLED, PARTIALLY_SHIPPED, PENDING, SHIPPED, UNSHIPPED, Order, OrderItem, World

ORDER_DAYS = 14
DAY = 86400.0


def populate(world: World, *, seed: int, skus: int, orders: int) -> None:
    world.catalog = make_catalog(world.clock, seed=seed, skus=skus)
    generate_orders(world, seed=seed, orders_per_seller=orders)


def sellable(world: World, seller_id: str, marketplace_id: str) -> Sequence[SkuLine]:
    """What generated orders are made of: the catalog's first SKUs ("best sellers", catalog.SELLABLE_LIMIT),
    computed without generating whole listing tables, so a 100,000-SKU world starts fast."""
    catalog: Catalog = world.catalog
    return list(catalog.sellable(seller_id, marketplace_id))


def find_sku(
    world: World, seller_id: str, marketplace_id: str, sku: str, fulfilled_by: str | None
) -> SkuLine | None:
    """Any SKU the seller lists in that marketplace (not only the `sellable` ones orders are generated from)."""
    catalog: Catalog = world.catalog
    return catalog.sku_line(seller_id, marketplace_id, sku)


def order_id_for(rng: random.Random) -> str:
    return f"{rng.randrange(100, 1000)}-{rng.randrange(10**6, 10**7)}-{rng.randrange(10**6, 10**7)}"


_STATUS_TABLE = (
    (0.10, PENDING, "MERCHANT"),
    (0.45, UNSHIPPED, "MERCHANT"),
    (0.50, PARTIALLY_SHIPPED, "MERCHANT"),
    (0.58, CANCELLED, "MERCHANT"),
    (0.75, SHIPPED, "AMAZON"),
    (1.00, SHIPPED, "MERCHANT"),  # shipped by the seller outside the WMS
)


def generate_orders(world: World, *, seed: int, orders_per_seller: int) -> None:
    rng = random.Random(f"orders-{seed}")
    now = world.clock.time()
    generated: list[Order] = []
    seen: set[str] = set()
    for seller in world.sellers.values():
        markets = seller.marketplace_ids
        lines = {m: sellable(world, seller.seller_id, m) for m in markets}
        by_channel = {
            (m, channel): [line for line in lines[m] if line.fulfilled_by == channel] or list(lines[m])
            for m in markets
            for channel in ("MERCHANT", "AMAZON")
        }
        for _ in range(orders_per_seller):
            marketplace_id = markets[0] if rng.random() < 0.6 else rng.choice(markets)
            roll = rng.random()
            status, channel = next((s, c) for limit, s, c in _STATUS_TABLE if roll < limit)
            candidates = by_channel[(marketplace_id, channel)]
            if not candidates:
                continue
            order_id = order_id_for(rng)
            while order_id in seen:
                order_id = order_id_for(rng)
            seen.add(order_id)
            created = now - rng.random() * ORDER_DAYS * DAY - 600.0
            if status == PENDING:  # pending orders are recent
                created = now - rng.random() * 3600.0 - 300.0
            updated = min(now - 180.0, created + rng.random() * 2 * DAY) if status != PENDING else created
            items = []
            for n in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
                line = candidates[rng.randrange(len(candidates))]
                quantity = 1 if rng.random() < 0.8 else rng.randint(2, 4)
                shipped = quantity if status == SHIPPED else 0
                items.append(
                    OrderItem(f"{order_id.replace('-', '')[:12]}{n:02d}", line.sku, line.asin, line.title,
                              quantity, line.price, shipped)
                )  # fmt: skip
            if status == PARTIALLY_SHIPPED:
                if sum(i.quantity for i in items) < 2:
                    status = UNSHIPPED
                elif items[0].quantity > 1:
                    items[0].shipped = 1
                else:
                    items[0].shipped = items[0].quantity
            currency = MARKETPLACES[marketplace_id].currency
            order = Order(order_id, seller.seller_id, marketplace_id, created, updated, status, channel,
                          items, {}, "", currency)  # fmt: skip
            order.shipped_outside = status == SHIPPED and channel == "MERCHANT"
            generated.append(order)
    with world.lock:
        world.orders.bulk_load(generated)
        for order in generated:
            world.schedule_release(order)


_FIRST = ("Alex", "Sam", "Maria", "Jun", "Chris", "Lena", "Omar", "Yuki", "Noah", "Emma", "Luca", "Ines")
_LAST = ("Smith", "Garcia", "Muller", "Rossi", "Tanaka", "Martin", "Brown", "Lopez", "Dubois", "Sato")
_STREETS = ("Main Street", "Oak Avenue", "Station Road", "Hauptstrasse", "Rue de la Paix", "Via Roma")
_CITIES = {
    "US": ("Seattle", "WA", "98101"), "CA": ("Toronto", "ON", "M5H 2N2"), "MX": ("Guadalajara", "JAL", "44100"),
    "GB": ("London", "London", "SW1A 1AA"), "DE": ("Berlin", "Berlin", "10115"), "FR": ("Paris", "IDF", "75001"),
    "IT": ("Milano", "MI", "20121"), "ES": ("Madrid", "M", "28001"), "JP": ("Tokyo", "Tokyo", "100-0001"),
    "AU": ("Sydney", "NSW", "2000"),
}  # fmt: skip


def _order_rng(order: Order) -> random.Random:
    return random.Random(zlib.crc32(order.order_id.encode()))


def buyer_name(order: Order) -> str:
    if order.buyer_name:
        return order.buyer_name
    rng = _order_rng(order)
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def delivery_address(order: Order) -> dict[str, str]:
    """The shipping address (given for new orders, else derived from the order id)."""
    if order.address:
        return dict(order.address)
    rng = _order_rng(order)
    country = MARKETPLACES[order.marketplace_id].country_code
    city, state, postal = _CITIES.get(country, ("Springfield", "", "00000"))
    return {
        "name": buyer_name(order),
        "addressLine1": f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",
        "city": city,
        "stateOrRegion": state,
        "postalCode": postal,
        "countryCode": country,
        "phone": f"+1-555-{rng.randint(1000000, 9999999)}",
        "addressType": "RESIDENTIAL",
    }
