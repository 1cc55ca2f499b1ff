"""Sellers API: getMarketplaceParticipations."""

from __future__ import annotations

from typing import Any

from .sellers import MARKETPLACES
from .server import Call, sp_api_route


@sp_api_route(
    "GET",
    "/sellers/v1/marketplaceParticipations",
    operation_id="getMarketplaceParticipations",
    model="sellers.json",
)
def get_marketplace_participations(call: Call) -> tuple[int, dict[str, Any]]:
    assert call.seller_id is not None
    seller = call.world.sellers[call.seller_id]
    payload = []
    for marketplace_id in seller.marketplace_ids:
        market = MARKETPLACES[marketplace_id]
        payload.append(
            {
                "marketplace": {
                    "id": market.marketplace_id,
                    "name": market.name,
                    "countryCode": market.country_code,
                    "defaultCurrencyCode": market.currency,
                    "defaultLanguageCode": market.language,
                    "domainName": market.domain,
                },
                "participation": {"isParticipating": True, "hasSuspendedListings": False},
                "storeName": seller.name,
            }
        )
    return 200, {"payload": payload}
