"""Shipments on Amazon: v0 confirmShipment, and the packages Amazon holds for an order (getOrder v2026-01-01 with
PACKAGES), both through the seller's quota gate. The packages are typed here, at the adapter's boundary."""

from __future__ import annotations

from typing import Any

from storesync.amazon.answers import Answer, parse_answer
from storesync.amazon.clients import SpApi


class AmazonPackage(Answer):
    """A package Amazon holds for an order (Orders v2026-01-01 `Package`): what the push compares."""

    package_reference_id: str
    tracking_number: str = ""


class OrderPackages(Answer):
    """getOrder with includedData=PACKAGES: the order's packages (none yet: an empty list)."""

    packages: list[AmazonPackage] = []


class SpApiShipmentConfirmer:
    """confirmShipment (v0) and getOrder (v2026-01-01, PACKAGES) through the seller's quota gate."""

    def __init__(self, amazon: SpApi) -> None:
        self._amazon = amazon

    def confirm(self, amazon_order_id: str, request: dict[str, Any]) -> None:
        """confirmShipment: any 2xx answer is success (Amazon answers 204, no body). Never repeated by the gate
        once it may have reached Amazon: a lost answer raises AnswerLost (check `packages` before confirming
        again)."""
        client = self._amazon.orders_v0()
        self._amazon.gate.call("confirmShipment", lambda: client.confirm_shipment(amazon_order_id, **request))

    def packages(self, amazon_order_id: str) -> list[AmazonPackage]:
        client = self._amazon.orders()
        return self._amazon.gate.call(
            "getOrder",
            lambda: client.get_order(amazon_order_id, includedData=["PACKAGES"]),
            parse=_packages,
        )


def _packages(answer: Any) -> list[AmazonPackage]:
    """getOrder (PACKAGES): the order's packages; an answer without its `order` is invalid, not "no packages"."""
    payload: Any = answer.payload
    order = payload.get("order") if isinstance(payload, dict) else None
    return parse_answer(OrderPackages, "getOrder", order).packages
