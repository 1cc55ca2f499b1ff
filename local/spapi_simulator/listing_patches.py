"""What a listings patch (patchListingsItem or a JSON_LISTINGS_FEED PATCH message) does to a listing.

`evaluate(listing, sku, marketplace_id, product_type, patches)` checks the patches against the listing and
returns the issues (Amazon's Issue shape) and the changes to apply; `apply(catalog, ..., outcome, delay)`
applies them (the quantity after `delay` seconds, as Amazon queues it). Quantity is pushed with
`{"op": "merge"|"replace", "path": "/attributes/fulfillment_availability",
"value": [{"fulfillment_channel_code": "DEFAULT", "quantity": N}]}`; FBA listings refuse it (Amazon owns
their stock); price with `/attributes/purchasable_offer` (our_price schedule value_with_tax); other
attributes are kept as given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import FBM_CHANNEL, Catalog, Listing, status_for_quantity

FULFILLMENT_AVAILABILITY = "fulfillment_availability"
PURCHASABLE_OFFER = "purchasable_offer"


def issue(code: str, message: str, category: str, attribute: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"code": code, "message": message, "severity": "ERROR", "categories": [category]}
    if attribute:
        found["attributeNames"] = [attribute]
    return found


@dataclass
class Outcome:
    issues: list[dict[str, Any]] = field(default_factory=list)
    quantity: int | None = None
    price: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # name -> value list, or None to delete

    @property
    def valid(self) -> bool:
        return not any(i["severity"] == "ERROR" for i in self.issues)


def unknown_sku_issue(sku: str, marketplace_id: str) -> dict[str, Any]:
    message = (
        f"SKU '{sku}' does not exist in marketplace {marketplace_id}; create the listing before patching it."
    )
    return issue("4000001", message, "INVALID_ATTRIBUTE")


def evaluate(
    listing: Listing | None, sku: str, marketplace_id: str, product_type: str, patches: list[dict[str, Any]]
) -> Outcome:
    outcome = Outcome()
    if listing is None:
        outcome.issues.append(unknown_sku_issue(sku, marketplace_id))
        return outcome
    if product_type != listing.product_type:
        message = f"productType '{product_type}' does not match the listing's product type '{listing.product_type}'."
        outcome.issues.append(issue("4000003", message, "INVALID_ATTRIBUTE"))
    for number, patch in enumerate(patches):
        _evaluate_one(listing, number, patch, outcome)
    return outcome


def _evaluate_one(listing: Listing, number: int, patch: dict[str, Any], outcome: Outcome) -> None:
    op, path, value = patch.get("op"), str(patch.get("path", "")), patch.get("value")
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != "" or parts[1] != "attributes" or not parts[2]:
        message = f"patches[{number}].path: '{path}' is not an attribute path such as /attributes/item_name."
        outcome.issues.append(issue("4000004", message, "INVALID_ATTRIBUTE"))
        return
    name = parts[2]
    if op != "delete" and (not isinstance(value, list) or not value):
        message = f"patches[{number}].value: op '{op}' on {path} needs a non-empty list of values."
        outcome.issues.append(issue("4000005", message, "INVALID_ATTRIBUTE", name))
        return
    if name == FULFILLMENT_AVAILABILITY:
        _fulfillment(listing, number, op, value or [], outcome)
    elif name == PURCHASABLE_OFFER and op != "delete":
        price = _our_price(value or [])
        if price is None or price < 0:
            message = f"patches[{number}].value: purchasable_offer needs our_price[0].schedule[0].value_with_tax >= 0."
            outcome.issues.append(issue("4000006", message, "INVALID_ATTRIBUTE", name))
        else:
            outcome.price = price
    else:
        outcome.attributes[name] = None if op == "delete" else value


def _fulfillment(listing: Listing, number: int, op: Any, value: list[Any], outcome: Outcome) -> None:
    name = FULFILLMENT_AVAILABILITY
    if listing.is_fba:
        message = (
            f"The listing '{listing.sku}' is fulfilled by Amazon ({listing.fulfillment_channel}): its quantity is "
            "Amazon's and cannot be set with fulfillment_availability."
        )
        outcome.issues.append(issue("90111", message, "INVALID_ATTRIBUTE", name))
        return
    if op == "delete":
        outcome.quantity = 0
        return
    for entry in value:
        code = entry.get("fulfillment_channel_code") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not code:
            message = f"patches[{number}].value: 'fulfillment_channel_code' is required but not supplied."
            outcome.issues.append(issue("90220", message, "MISSING_ATTRIBUTE", name))
            continue
        if code != FBM_CHANNEL:
            message = f"patches[{number}].value: fulfillment_channel_code '{code}' is not valid for this merchant-fulfilled listing (use DEFAULT)."
            outcome.issues.append(issue("4000007", message, "INVALID_ATTRIBUTE", name))
            continue
        quantity = entry.get("quantity")
        if quantity is None and op == "merge":
            continue
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            message = f"patches[{number}].value: quantity must be an integer of 0 or more, got {quantity!r}."
            outcome.issues.append(issue("99001", message, "INVALID_ATTRIBUTE", name))
            continue
        outcome.quantity = quantity


def _our_price(value: list[Any]) -> float | None:
    try:
        amount = value[0]["our_price"][0]["schedule"][0]["value_with_tax"]
    except (KeyError, IndexError, TypeError):
        return None
    return float(amount) if isinstance(amount, int | float) and not isinstance(amount, bool) else None


def apply(
    catalog: Catalog, seller_id: str, marketplace_id: str, sku: str, outcome: Outcome, delay: float
) -> None:
    """Apply a valid outcome: price and attributes now, the quantity after `delay` seconds."""
    if outcome.price is not None or outcome.attributes:
        with catalog.lock:
            table = catalog.table(seller_id, marketplace_id)
            listing = table.get(sku)
            if listing is not None:
                if outcome.price is not None:
                    listing.price = outcome.price
                for name, value in outcome.attributes.items():
                    listing.attributes = dict(listing.attributes or {})
                    if value is None:
                        listing.attributes.pop(name, None)
                    else:
                        listing.attributes[name] = value
                table.touch(listing, catalog.clock.time())
    if outcome.quantity is not None:
        catalog.schedule_quantity(seller_id, marketplace_id, sku, outcome.quantity, delay)


__all__ = ["Outcome", "apply", "evaluate", "issue", "status_for_quantity", "unknown_sku_issue"]
