"""Notices: what storesync tells a merchant, as a store's warnings and as the sync log's entries (plain Python).

A notice is a code from a closed set and its parameters (simple values); its plain-words message is made from
them by `message_of`, with one template per code. Writers replace or remove notices by code and parameters
(`replace_notices`), never by reading the text.

Rows written before notices had codes hold the text alone: `legacy_notice` turns such a text into a `legacy`
notice and records which kind of notice the old text was (`was`, and the SKU of a rejected listing), so the
writer of that kind replaces it like its own. That is the only place text is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

ParamValue = str | int | list[str]


class NoticeCode(StrEnum):
    # a store's warnings
    NOTIFICATIONS_UNSUBSCRIBED = "notifications_unsubscribed"
    LISTING_REJECTED = "listing_rejected"
    UNIFIED_QUANTITY_DISAGREEMENT = "unified_quantity_disagreement"
    FBA_AND_FBM_SKU = "fba_and_fbm_sku"
    SKU_IN_SEVERAL_MARKETPLACES = "sku_in_several_marketplaces"
    SYNC_LATE = "sync_late"  # computed from the last runs (domain/health.py), shown with the store
    SYNC_FAILING = "sync_failing"
    AUTHORIZATION_EXPIRES_SOON = (
        "authorization_expires_soon"  # computed from authorized_at (domain/stores.py)
    )
    CLIENT_SECRET_EXPIRES = "client_secret_expires"  # storesync's own LWA credential (GET /stores' warnings)
    # the sync log
    UNEXPECTED_FAILURE = "unexpected_failure"
    AUTHORIZATION_REVOKED = "authorization_revoked"
    AMAZON_UNAVAILABLE = "amazon_unavailable"
    AUTHORIZATION_REFUSED = "authorization_refused"  # also the store's status reason
    AMAZON_ANSWER_INVALID = "amazon_answer_invalid"
    AMAZON_REFUSED = "amazon_refused"
    RUN_RETRYING = "run_retrying"
    RUN_GAVE_UP = "run_gave_up"
    ORDER_UNREADABLE = "order_unreadable"
    ORDER_NOT_STORED = "order_not_stored"
    ORDER_GIVEN_UP = "order_given_up"
    ORDER_UNKNOWN_SKUS = "order_unknown_skus"
    ORDER_REPORT_FAILED = "order_report_failed"
    ORDER_REPORT_GAVE_UP = "order_report_gave_up"
    SHIPMENT_REFUSED = "shipment_refused"
    SHIPMENT_RETRYING = "shipment_retrying"
    QUANTITY_REJECTED = "quantity_rejected"
    INVENTORY_FEED_FAILED = "inventory_feed_failed"
    INVENTORY_FEED_REFUSED = "inventory_feed_refused"
    LISTINGS_REPORT_FAILED = "listings_report_failed"
    LISTINGS_REPORT_UNREADABLE = "listings_report_unreadable"
    LISTINGS_REPORT_EMPTY = "listings_report_empty"
    LISTINGS_REPORT_CANCELLED = "listings_report_cancelled"
    PRODUCT_IMPORT_GAVE_UP = "product_import_gave_up"
    FBA_QUANTITIES_NOT_READ = "fba_quantities_not_read"
    REPORT_ROW_SKIPPED = "report_row_skipped"
    REPORT_SKU_SKIPPED = "report_sku_skipped"
    # either, written before notices had codes
    LEGACY = "legacy"


C = NoticeCode
TEMPLATES: dict[NoticeCode, str] = {
    C.NOTIFICATIONS_UNSUBSCRIBED: (
        "Near-real-time order updates (Amazon ORDER_CHANGE notifications) could not be set up: {reason}. "
        "Orders still arrive with the scheduled sync every 30 minutes."
    ),
    C.LISTING_REJECTED: "Inventory: Amazon rejected SKU {sku}: {reason}",
    C.UNIFIED_QUANTITY_DISAGREEMENT: (
        "Inventory: this store shares SKUs with {stores} (same Amazon seller account and region), but their "
        "inventory settings (buffer, maximum quantity or warehouses) differ. Amazon keeps one quantity per SKU "
        "for them, so storesync pushes the lowest of the stores' quantities."
    ),
    C.FBA_AND_FBM_SKU: (
        "Products: {count} SKU(s) are FBA in one store and merchant-fulfilled in another (e.g. {skus}); "
        "check which stock each store uses."
    ),
    C.SKU_IN_SEVERAL_MARKETPLACES: (
        "Products: {count} SKU(s) are listed in several marketplaces of the same Amazon seller account "
        "(e.g. {skus}); those marketplaces share one quantity."
    ),
    C.SYNC_LATE: (
        "{job} has not succeeded for {lag} (it runs every {cadence}): products, orders or quantities may be "
        "out of date. See the store's sync log."
    ),
    C.SYNC_FAILING: "{job} failed {runs} runs in a row. Last failure: {reason}",
    C.AUTHORIZATION_EXPIRES_SOON: (
        "Amazon's authorization of this store ends on {date} (it lasts one year from the day you authorized "
        "it). Reauthorize the store before then, or syncing stops."
    ),
    C.CLIENT_SECRET_EXPIRES: (
        "storesync's Amazon app credential (LWA client secret) expires on {date}. Your storesync operator must "
        "rotate it before then (new secret in Secrets Manager, no deploy), or every store stops syncing."
    ),
    C.UNEXPECTED_FAILURE: "Unexpected failure: {error_type}",
    C.AUTHORIZATION_REVOKED: "Amazon no longer accepts this store's authorization: reauthorize the store.",
    C.AMAZON_UNAVAILABLE: "{reason}",
    C.AUTHORIZATION_REFUSED: (
        "{detail}. Syncing is paused: reauthorize the store to resume it; storesync then catches up what "
        "was missed."
    ),
    C.AMAZON_ANSWER_INVALID: "Amazon's answer could not be read: {reason}",
    C.AMAZON_REFUSED: "{reason}",
    C.RUN_RETRYING: "Attempt {attempt} of {attempts} failed; storesync tries again in {wait}.",
    C.RUN_GAVE_UP: (
        "Failed {attempts} attempts in a row: storesync stopped retrying. The next scheduled run starts where "
        "this one stopped."
    ),
    C.ORDER_UNREADABLE: "Order {order_id} could not be read: {reason}",
    C.ORDER_NOT_STORED: "Order {order_id} could not be stored ({error_type}); it will be retried",
    C.ORDER_GIVEN_UP: (
        "Order {order_id} could not be stored after {attempts} attempts ({error_type}); "
        "the next catch-up sync reads it again"
    ),
    C.ORDER_UNKNOWN_SKUS: "Order {order_id}: unknown SKU {skus}; created with an unknown_sku hold",
    C.ORDER_REPORT_FAILED: (
        "Amazon's order report {reason} (attempt {attempt} of {attempts}); no order was taken as unchanged: a "
        "new report is asked for"
    ),
    C.ORDER_REPORT_GAVE_UP: (
        "Amazon gave no readable order report in {attempts} attempts: its window is read with searchOrders "
        "instead"
    ),
    C.SHIPMENT_REFUSED: (
        "Order {order_id}, package {package}: Amazon refused the shipment confirmation: {reason}"
    ),
    C.SHIPMENT_RETRYING: "Order {order_id}, package {package}: {reason} (attempt {attempt}, retrying)",
    C.QUANTITY_REJECTED: "Amazon rejected quantity {quantity} for SKU {sku}: {reason}",
    C.INVENTORY_FEED_FAILED: "Amazon did not process the inventory feed {feed_id} ({status}); it is sent again.",
    C.INVENTORY_FEED_REFUSED: (
        "Amazon did not process the inventory feed {feed_id} ({status}: {reason}); it is sent again."
    ),
    C.LISTINGS_REPORT_FAILED: "Amazon could not produce the listings report; the next import will retry.",
    C.LISTINGS_REPORT_UNREADABLE: "Amazon's listings report could not be read: {reason}.",
    C.LISTINGS_REPORT_EMPTY: "Amazon's report listed no products: no listing was marked inactive.",
    C.LISTINGS_REPORT_CANCELLED: (
        "Amazon cancelled the listings report (attempt {attempts}); Amazon does so when the store has no "
        "listings or when it could not make the report. No product was changed; the report will be asked for again."
    ),
    C.PRODUCT_IMPORT_GAVE_UP: (
        "The product import stopped after {attempts} failed attempts in a row; no listing was marked inactive. "
        "The next scheduled import continues from where it stopped."
    ),
    C.FBA_QUANTITIES_NOT_READ: (
        "Amazon's FBA quantities could not be read ({reason}); the quantities shown stay as they were and are "
        "read again."
    ),
    C.REPORT_ROW_SKIPPED: "Report row {record} skipped: {reason}",
    C.REPORT_SKU_SKIPPED: "Report row {record} (SKU {sku}) skipped: {reason}",
    C.LEGACY: "{text}",
}


def message_of(code: NoticeCode, params: Mapping[str, ParamValue]) -> str:
    """The plain-words message: the code's template filled with its parameters (a list reads "a, b, c")."""
    words = {name: ", ".join(value) if isinstance(value, list) else value for name, value in params.items()}
    return TEMPLATES[code].format(**words)


@dataclass(frozen=True)
class Notice:
    code: NoticeCode
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return message_of(self.code, self.params)

    @property
    def kind(self) -> NoticeCode:
        """The code, or for a legacy notice the code its old text had (when recognised)."""
        was = self.params.get("was") if self.code == C.LEGACY else None
        return NoticeCode(was) if isinstance(was, str) and was in _CODES else self.code

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "params": dict(self.params), "message": self.message}

    def clipped(self, limit: int) -> Notice:
        """The same notice with every text parameter cut to `limit` characters (Amazon's words can be long)."""
        params = {k: v[:limit] if isinstance(v, str) else v for k, v in self.params.items()}
        return Notice(self.code, params)


_CODES = {c.value for c in NoticeCode}
_FIELDS = {code: set(re.findall(r"{(\w+)}", template)) for code, template in TEMPLATES.items()}


def notice(code: NoticeCode, **params: ParamValue) -> Notice:
    missing = _FIELDS[code] - set(params)
    if missing:
        raise ValueError(f"{code} needs {', '.join(sorted(missing))}")
    return Notice(code, params)


def stored_notice(code: str, params: Mapping[str, ParamValue], message: str) -> Notice:
    """A notice read back from storage: one whose code (or parameters) this version does not know keeps its
    stored message, as a legacy notice."""
    if code in _CODES and _FIELDS[NoticeCode(code)] <= set(params):
        return Notice(NoticeCode(code), dict(params))
    return legacy_notice(message)


def replace_notices(
    current: Iterable[Notice], drop: Callable[[Notice], bool], add: Iterable[Notice] = ()
) -> list[Notice]:
    """`current` without the notices `drop` selects (by code and parameters), then `add`; order kept."""
    return [*(n for n in current if not drop(n)), *add]


def of_kinds(*codes: NoticeCode) -> Callable[[Notice], bool]:
    """Selects the notices of these codes (legacy notices whose old text was one of them included)."""
    return lambda n: n.kind in codes


def distinct(notices: Iterable[Notice]) -> list[Notice]:
    """Each notice once, sorted by message (the order a store shows its warnings in)."""
    unique = {(n.code, n.message): n for n in notices}
    return [unique[key] for key in sorted(unique, key=lambda key: (key[1], key[0]))]


def inventory_warnings(
    current: Iterable[Notice],
    rejected: Mapping[str, str],
    accepted: Iterable[str],
    sharing: Notice | None,
    mid_pass: bool,
) -> list[Notice]:
    """A store's warnings after an inventory push: each SKU pushed this run loses its old rejection and gets
    the new one if Amazon refused it again (`rejected`: SKU -> Amazon's words); the unified-account warning is
    replaced by this run's, and kept while a pass is in progress (an earlier slice found it)."""
    pushed = set(accepted) | set(rejected)
    keep_sharing = mid_pass and sharing is None

    def replaced(warning: Notice) -> bool:
        if warning.kind == C.LISTING_REJECTED:
            return warning.params.get("sku") in pushed
        return warning.kind == C.UNIFIED_QUANTITY_DISAGREEMENT and not keep_sharing

    fresh = [notice(C.LISTING_REJECTED, sku=sku, reason=words) for sku, words in sorted(rejected.items())]
    return replace_notices(current, replaced, [*fresh, *([sharing] if sharing else [])])


# Texts written before notices had codes ----------------------------------------------------------------------
_LEGACY_SHAPES: tuple[tuple[re.Pattern[str], NoticeCode], ...] = (
    (
        re.compile(r"Near-real-time order updates \(Amazon ORDER_CHANGE notifications\)"),
        C.NOTIFICATIONS_UNSUBSCRIBED,
    ),
    (re.compile(r"Inventory: Amazon rejected SKU (?P<sku>[^:]*):"), C.LISTING_REJECTED),
    (re.compile(r"Inventory: this store shares SKUs with "), C.UNIFIED_QUANTITY_DISAGREEMENT),
    (re.compile(r"Products: \d+ SKU\(s\) are FBA in one store"), C.FBA_AND_FBM_SKU),
    (re.compile(r"Products: \d+ SKU\(s\) are listed in several marketplaces"), C.SKU_IN_SEVERAL_MARKETPLACES),
)


def legacy_notice(text: str) -> Notice:
    """A plain-text warning or log entry of an old row: its text as the message, and what kind it was."""
    params: dict[str, ParamValue] = {"text": text}
    for shape, code in _LEGACY_SHAPES:
        found = shape.match(text)
        if found:
            params.update(was=code.value, **{k: v.strip() for k, v in found.groupdict().items()})
            break
    return Notice(C.LEGACY, params)
