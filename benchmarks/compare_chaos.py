"""The chaos run's comparison (benchmarks/bench_chaos.py): storesync's tables (read through storesync.dal, as
`make demo` does) and its API against the simulator's ground truth (/_sim/orders, /_sim/listings,
/_sim/shipments, /_sim/stats). Not a benchmark itself.

Each figure is a count of things that are wrong, with up to a few examples kept for the diagnosis.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

EXAMPLES = 5

FIGURES = {
    "missing": "orders missing after the next regular order run",
    "duplicated": "orders duplicated (listed twice, or more lines/units than Amazon's)",
    "status": "status mismatches (Amazon status or WMS status)",
    "stale_hold": "orders on a hold that no longer applies",
    "fba_zeroed": "FBA quantities set to 0 that Amazon holds",
    "not_converged": "FBM listings whose Amazon quantity has not converged after two push cycles",
    "confirmed_twice": "shipments confirmed twice on Amazon",
    "shipment_lost": "WMS shipments not confirmed on Amazon after two push cycles",
    "outbox_left": "events left in the outbox after the relay (never delivered)",
    "no_import_event": "orders storesync holds whose Order Imported event the WMS never received",
    "event_stale": "orders whose last event (highest version) is not storesync's status, holds, Amazon status",
}

CLOSED_SHIPPED = {"shipped", "shipped_externally"}


def expected_wms_status(truth: dict[str, Any], kind: str, wms_shipped: bool) -> set[str]:
    status = truth["status"]
    if status == "PENDING":
        return {"pending"}
    if status == "CANCELLED":
        return {"cancelled"}
    if status == "UNSHIPPED":
        return {"open"}
    if status == "PARTIALLY_SHIPPED":
        return {"partially_shipped"}
    if status == "SHIPPED":
        if truth["fulfilled_by"] == "AMAZON":
            return CLOSED_SHIPPED
        return {"shipped"} if wms_shipped else {"shipped_externally"}
    return {status.lower()}


def compare(chaos: Any) -> tuple[dict[str, int], dict[str, list[str]]]:
    from storesync.dal.inventory import InventoryItem
    from storesync.dal.orders import Order
    from storesync.dal.products import Listing
    from storesync.dal.shipments import Shipment
    from storesync.dal.stores import Store
    from storesync.dal.warehouses import feeding_warehouses
    from storesync.domain.inventory import available, quantity_to_show

    store_id = chaos.store_id
    merchant_id = chaos.client.merchant_id
    found: dict[str, list[str]] = {name: [] for name in FIGURES}

    def bad(name: str, text: str) -> None:
        found[name].append(text)

    # orders -------------------------------------------------------------------------------------------------
    truth = {o["order_id"]: o for o in chaos.sim("GET", "/_sim/orders", seller_id=chaos.seller,
                                                 marketplace_id=chaos.marketplace, limit="1000000")}  # fmt: skip
    stored = {o.amazon_order_id: o for o in Order.query(store_id)}
    listed = api_order_ids(chaos)
    found_cancelled_unseen: list[str] = []
    for order_id, times in Counter(listed).items():
        if times > 1:
            bad("duplicated", f"{order_id} listed {times} times by GET /orders")
    listings = {x.sku: x for x in Listing.query(store_id)}
    for order_id, t in sorted(truth.items()):
        kind = chaos.truth.kind.get(order_id, "?")
        s = stored.get(order_id)
        if s is None and t["status"] == "CANCELLED":
            found_cancelled_unseen.append(order_id)  # domain/orders.py import_new: never created, by design
            continue
        if s is None:
            batch = chaos.truth.batch.get(order_id, 0)
            revoke = " (the revoke's batch)" if batch and batch == chaos.revoke_batch else ""
            bad("missing", f"{order_id} ({kind}, Amazon {t['status']}, batch {batch}{revoke})")
            continue
        amazon_lines = {i["order_item_id"]: i["quantity"] for i in t["items"]}
        ours = [(i.order_item_id, int(i.quantity)) for i in s.items]
        allocated = sum(int(a.quantity) for i in s.items for a in i.allocations)
        if (
            len(ours) > len(amazon_lines)
            or sum(q for _, q in ours) > sum(amazon_lines.values())
            or (allocated > sum(amazon_lines.values()))
        ):
            bad(
                "duplicated",
                f"{order_id} ({kind}): lines {ours} allocated {allocated}, Amazon {amazon_lines}",
            )
        expected = expected_wms_status(t, kind, order_id in chaos.truth.wms_shipped)
        if s.amazon_status.upper() != t["status"] or s.status not in expected:
            bad("status", f"{order_id} ({kind}): storesync {s.amazon_status}/{s.status}, Amazon {t['status']} "
                          f"(expected WMS {'|'.join(sorted(expected))})")  # fmt: skip
        for hold in s.holds:
            if hold == "payment_hold" and t["status"] != "PENDING":
                bad("stale_hold", f"{order_id} ({kind}): payment_hold, Amazon {t['status']}")
            elif hold == "unknown_sku":
                skus = [i.sku for i in s.items]
                if all(sku in listings for sku in skus):
                    bad("stale_hold", f"{order_id} ({kind}): unknown_sku, storesync lists {skus}")
    # listings -----------------------------------------------------------------------------------------------
    amazon = {x["sku"]: x for x in chaos.sim("GET", "/_sim/listings", seller_id=chaos.seller,
                                             marketplace_id=chaos.marketplace)["listings"]}  # fmt: skip
    for sku, listing in sorted(listings.items()):
        theirs = amazon.get(sku)
        zeroed = listing.amazon_quantity is not None and int(listing.amazon_quantity) == 0
        if listing.channel == "FBA" and theirs is not None and zeroed and theirs["quantity"] > 0:
            bad("fba_zeroed", f"{sku}: storesync 0, Amazon {theirs['quantity']}")
    store = Store.get(merchant_id, store_id)
    warehouses = feeding_warehouses(store)
    fbm = [x for x in listings.values() if x.channel == "FBM" and x.status == "active"]
    sums: dict[str, int] = {}
    keys = [(f"{merchant_id}#{w}", x.sku) for w in warehouses for x in fbm]
    for item in InventoryItem.batch_get(keys):
        sums[item.sku] = sums.get(item.sku, 0) + available(item.on_hand, item.allocated)
    settings = store.settings
    for listing in fbm:
        computed = quantity_to_show(
            sums.get(listing.sku, 0), settings.inventory_buffer, settings.max_quantity
        )
        shown = amazon.get(listing.sku, {}).get("quantity")
        if shown != computed:
            pushed = listing.last_pushed_quantity
            bad("not_converged", f"{listing.sku}: computed {computed}, last pushed {pushed} "
                                 f"({listing.last_push_status}), Amazon {shown}")  # fmt: skip
    # shipments ----------------------------------------------------------------------------------------------
    packages = chaos.sim("GET", "/_sim/shipments", seller_id=chaos.seller)
    by_tracking = Counter((p["order_id"], p["tracking_number"]) for p in packages)
    for (order_id, tracking), times in sorted(by_tracking.items()):
        if times > 1:
            bad("confirmed_twice", f"{order_id} tracking {tracking}: {times} packages on Amazon")
    for order_id, tracking in sorted(chaos.truth.wms_shipped.items()):
        if (order_id, tracking) not in by_tracking:
            states = [s.push_state for s in Shipment.query(f"{store_id}#{order_id}")]
            bad(
                "shipment_lost",
                f"{order_id} tracking {tracking}: not on Amazon (storesync push_state {states})",
            )
    # events for the WMS (the outbox, the relay, the bus's rule to the local queue) ----------------------------
    from storesync.dal.outbox import OutboxEvent

    for row in OutboxEvent.scan(consistent_read=True):
        bad("outbox_left", f"{row.event_id}: {row.detail_type}, committed {row.created_at.isoformat()}")
    imported: set[str] = set()
    last: dict[str, dict[str, Any]] = {}
    for event in chaos.events:
        detail = event.get("detail") or {}
        order_id = detail.get("amazonOrderId")
        if not order_id or detail.get("storeId") != store_id or "version" not in detail:
            continue
        if event.get("detail-type") == "Order Imported":
            imported.add(order_id)
        if order_id not in last or int(detail["version"]) > int(last[order_id]["version"]):
            last[order_id] = detail
    for order_id, s in sorted(stored.items()):
        if order_id not in imported:
            bad("no_import_event", f"{order_id}: storesync {s.status}, version {s.version}")
        told = last.get(order_id)
        ours = (str(s.status), s.amazon_status, sorted(str(h) for h in s.holds))
        theirs = None if told is None else (told["status"], told["amazonStatus"], sorted(told["holds"]))
        if theirs != ours:
            bad("event_stale", f"{order_id}: storesync {ours} v{s.version}, last event {theirs} "
                               f"v{None if told is None else told['version']}")  # fmt: skip
    ids = Counter(str((e.get("detail") or {}).get("eventId")) for e in chaos.events)
    chaos.events_note = (
        f"{len(chaos.events):,} events received, {len(ids):,} distinct eventIds "
        f"({sum(n - 1 for n in ids.values()):,} repeats, allowed: at least once)"
    )
    figures = {name: len(items) for name, items in found.items()}
    chaos.cancelled_unseen = len(found_cancelled_unseen)
    return figures, found


def api_order_ids(chaos: Any) -> list[str]:
    """Every order of the store as GET /orders pages them (what a WMS polling storesync would get)."""
    ids: list[str] = []
    token = None
    while True:
        params = {"store_id": chaos.store_id, "limit": "200", **({"next_token": token} if token else {})}
        page = chaos.client.get("/orders", params=params)
        ids.extend(o["amazon_order_id"] for o in page["orders"])
        token = page.get("next_token")
        if not token:
            return ids


def print_report(
    chaos: Any, figures: dict[str, int], details: dict[str, list[str]], stats: dict[str, Any], wall: float
) -> None:
    say = chaos.say
    say("\n5. storesync against Amazon (the simulator's ground truth)")
    width = max(len(text) for text in FIGURES.values())
    say(f"{'figure'.ljust(width)}  count")
    say(f"{'-' * width}  -----")
    for name, text in FIGURES.items():
        say(f"{text.ljust(width)}  {figures[name]}")
    faults = stats.get("faults") or {}
    say("")
    say(f"{'faults injected per mode (GET /_sim/stats)'.ljust(width)}  count")
    say(f"{'-' * width}  -----")
    for mode, count in sorted(faults.items()):
        say(f"{mode.ljust(width)}  {count}")
    if not faults:
        errors = sum(stats.get("errors", {}).values())
        say(f"{'(no per-mode counts in this simulator) error answers'.ljust(width)}  {errors}")
    say(f"{'throttled (429) answers'.ljust(width)}  {sum(stats.get('throttled', {}).values())}")
    say(f"\nrevoke + reauthorize: {chaos.revoke_note}")
    say(
        f"orders not in storesync before the recovery's order run (cancelled ones included): "
        f"{chaos.missing_before_run}"
    )
    say(f"messages in dead-letter queues: {chaos.dead or 'none'}")
    say(
        f"events for the WMS: {getattr(chaos, 'events_note', 'not read')}; the relay's last run: {chaos.relay_note}"
    )
    say(
        f"orders cancelled on Amazon before storesync first read them (not created, by design; not counted "
        f"as missing): {chaos.cancelled_unseen}"
    )
    for name, items in details.items():
        if items:
            say(f"\n{FIGURES[name]} ({len(items)}), first {min(EXAMPLES, len(items))}:")
            for text in items[:EXAMPLES]:
                say(f"   {text}")
    calls = stats.get("calls", {})
    total = sum(calls.values())
    say(f"\nSP-API calls per operation (whole run, {total:,} calls; errors = answers >= 400 incl. faults):")
    for operation, count in sorted(calls.items(), key=lambda kv: -kv[1]):
        errors = stats.get("errors", {}).get(operation, 0)
        throttled = stats.get("throttled", {}).get(operation, 0)
        say(f"   {operation:32} {count:7,}  errors {errors:6,}  429 {throttled:5,}")
    phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in chaos.phase_times.items())
    say(f"\norders: {chaos.args.orders:,} (seed {chaos.args.seed}, fault share {chaos.args.fault_share:.0%}); "
        f"wall time {wall:.0f} s ({phases})")  # fmt: skip
    verdict = "every figure is 0" if not any(figures.values()) else "NOT every figure is 0 (exit code 1)"
    say(verdict)
