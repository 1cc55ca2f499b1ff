"""What connecting a store asks of the seller's Amazon: the marketplaces it sells in (Sellers API) and the
ORDER_CHANGE subscription to storesync's SQS queue (Notifications API), through the session's quota gate."""

from __future__ import annotations

from typing import Any

from storesync.amazon.answers import (
    Destination,
    MarketplaceParticipation,
    Subscription,
    parse_answer,
    parse_answer_list,
)
from storesync.amazon.clients import SpApi
from storesync.amazon.errors import AmazonRejected

ORDER_CHANGE = "ORDER_CHANGE"
DESTINATION_NAME = "storesync-orders"


class SellerAccount:
    def __init__(self, session: SpApi) -> None:
        self._session = session

    def participations(self) -> list[MarketplaceParticipation]:
        sellers = self._session.sellers()
        return self._session.gate.call(
            "getMarketplaceParticipations",
            lambda: sellers.get_marketplace_participation(),
            parse=lambda answer: parse_answer_list(
                MarketplaceParticipation, "getMarketplaceParticipations", answer.payload
            ),
        )

    def participating_marketplaces(self) -> list[str]:
        """The ids of the marketplaces the seller participates in, in Amazon's order, once each."""
        ids: list[str] = []
        for entry in self.participations():
            if entry.participation.is_participating and entry.marketplace.id not in ids:
                ids.append(entry.marketplace.id)
        return ids

    def sqs_destination(self, arn: str) -> str:
        """The id of the destination for the SQS queue `arn`: created, or found when it already exists (409)."""
        notifications = self._session.notifications()
        gate = self._session.gate
        try:
            return gate.call(
                "createDestination",
                lambda: notifications.create_destination(name=DESTINATION_NAME, arn=arn),
                parse=lambda answer: (
                    parse_answer(Destination, "createDestination", answer.payload).destination_id
                ),
            )
        except AmazonRejected as exc:
            if exc.status != 409:
                raise
        listed = gate.call(
            "getDestinations",
            lambda: notifications.get_destinations(),
            parse=lambda answer: parse_answer_list(Destination, "getDestinations", _payload_list(answer)),
        )
        for destination in listed:
            if destination.sqs_arn == arn:
                return destination.destination_id
        raise AmazonRejected("getDestinations", 404, "NotFound", f"no destination for {arn}")

    def order_change_subscription(self, destination_id: str) -> str:
        """The id of the seller's ORDER_CHANGE subscription: created, or the existing one (409)."""
        notifications = self._session.notifications()
        gate = self._session.gate
        try:
            return gate.call(
                "createSubscription",
                lambda: notifications.create_subscription(ORDER_CHANGE, destination_id=destination_id),
                parse=lambda answer: (
                    parse_answer(Subscription, "createSubscription", answer.payload).subscription_id
                ),
            )
        except AmazonRejected as exc:
            if exc.status != 409:
                raise
        return gate.call(
            "getSubscription",
            lambda: notifications.get_subscription(ORDER_CHANGE),
            parse=lambda answer: (
                parse_answer(Subscription, "getSubscription", answer.payload).subscription_id
            ),
        )


def _payload_list(answer: Any) -> Any:
    """getDestinations' payload list. python-amazon-sp-api turns `"payload": []` into `{}`, the same as a body
    without a payload: both read as no destination, and sqs_destination then refuses (404), never passes."""
    return answer.payload or []
