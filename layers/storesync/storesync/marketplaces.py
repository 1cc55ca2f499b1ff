"""Every SP-API marketplace storesync can connect, with its region and Seller Central consent base.

One place for marketplace facts (design.md section 4). Plain data: no AWS, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"


SP_API_ENDPOINTS: dict[Region, str] = {
    Region.NA: "https://sellingpartnerapi-na.amazon.com",
    Region.EU: "https://sellingpartnerapi-eu.amazon.com",
    Region.FE: "https://sellingpartnerapi-fe.amazon.com",
}

# The AWS region the SP-API endpoint of each selling region lives in (python-amazon-sp-api wants it).
AWS_REGIONS: dict[Region, str] = {Region.NA: "us-east-1", Region.EU: "eu-west-1", Region.FE: "us-west-2"}

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    country_code: str
    country: str
    region: Region
    seller_central: str
    currency: str

    @property
    def consent_base(self) -> str:
        return self.seller_central

    @property
    def label(self) -> str:
        return f"{self.country} ({self.country_code}, {self.region.value})"


def _m(mid: str, code: str, country: str, region: Region, central: str, currency: str) -> Marketplace:
    return Marketplace(mid, code, country, region, central, currency)


_NA, _EU, _FE = Region.NA, Region.EU, Region.FE
MARKETPLACES: tuple[Marketplace, ...] = (
    _m("ATVPDKIKX0DER", "US", "United States", _NA, "https://sellercentral.amazon.com", "USD"),
    _m("A2EUQ1WTGCTBG2", "CA", "Canada", _NA, "https://sellercentral.amazon.ca", "CAD"),
    _m("A1AM78C64UM0Y8", "MX", "Mexico", _NA, "https://sellercentral.amazon.com.mx", "MXN"),
    _m("A2Q3Y263D00KWC", "BR", "Brazil", _NA, "https://sellercentral.amazon.com.br", "BRL"),
    _m("A1F83G8C2ARO7P", "UK", "United Kingdom", _EU, "https://sellercentral-europe.amazon.com", "GBP"),
    _m("A1PA6795UKMFR9", "DE", "Germany", _EU, "https://sellercentral-europe.amazon.com", "EUR"),
    _m("A13V1IB3VIYZZH", "FR", "France", _EU, "https://sellercentral-europe.amazon.com", "EUR"),
    _m("APJ6JRA9NG5V4", "IT", "Italy", _EU, "https://sellercentral-europe.amazon.com", "EUR"),
    _m("A1RKKUPIHCS9HS", "ES", "Spain", _EU, "https://sellercentral-europe.amazon.com", "EUR"),
    _m("A1805IZSGTT6HS", "NL", "Netherlands", _EU, "https://sellercentral.amazon.nl", "EUR"),
    _m("A2NODRKZP88ZB9", "SE", "Sweden", _EU, "https://sellercentral.amazon.se", "SEK"),
    _m("A1C3SOZRARQ6R3", "PL", "Poland", _EU, "https://sellercentral.amazon.pl", "PLN"),
    _m("AMEN7PMS3EDWL", "BE", "Belgium", _EU, "https://sellercentral.amazon.com.be", "EUR"),
    _m("A28R8C7NBKEWEA", "IE", "Ireland", _EU, "https://sellercentral.amazon.ie", "EUR"),
    _m("A33AVAJ2PDY3EV", "TR", "Turkey", _EU, "https://sellercentral.amazon.com.tr", "TRY"),
    _m("A2VIGQ35RCS4UG", "AE", "United Arab Emirates", _EU, "https://sellercentral.amazon.ae", "AED"),
    _m("A17E79C6D8DWNP", "SA", "Saudi Arabia", _EU, "https://sellercentral.amazon.sa", "SAR"),
    _m("ARBP9OOSHTCHU", "EG", "Egypt", _EU, "https://sellercentral.amazon.eg", "EGP"),
    _m("A21TJRUUN4KGV", "IN", "India", _EU, "https://sellercentral.amazon.in", "INR"),
    _m("AE08WJ6YKNBMC", "ZA", "South Africa", _EU, "https://sellercentral.amazon.co.za", "ZAR"),
    _m("A1VC38T7YXB528", "JP", "Japan", _FE, "https://sellercentral.amazon.co.jp", "JPY"),
    _m("A39IBJ37TRP1C6", "AU", "Australia", _FE, "https://sellercentral.amazon.com.au", "AUD"),
    _m("A19VAU5U5O7RUS", "SG", "Singapore", _FE, "https://sellercentral.amazon.sg", "SGD"),
)

_BY_ID = {m.marketplace_id: m for m in MARKETPLACES}


class UnknownMarketplace(ValueError):
    pass


def marketplace(marketplace_id: str) -> Marketplace:
    try:
        return _BY_ID[marketplace_id]
    except KeyError:
        raise UnknownMarketplace(f"unknown marketplace id {marketplace_id!r}") from None


def is_marketplace(marketplace_id: object) -> bool:
    return isinstance(marketplace_id, str) and marketplace_id in _BY_ID
