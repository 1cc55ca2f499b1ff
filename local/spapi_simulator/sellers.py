"""Demo sellers and the application's LWA credentials (constants the rest of the project uses)."""

from __future__ import annotations

from dataclasses import dataclass

CLIENT_ID = "amzn1.application-oa2-client.storesynclocal"
CLIENT_SECRET = "storesync-local-secret"
APPLICATION_ID = "amzn1.sp.solution.storesync-local"
APPLICATION_NAME = "storesync (local)"


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    country_code: str
    name: str
    currency: str
    language: str
    domain: str


MARKETPLACES: dict[str, Marketplace] = {
    m.marketplace_id: m
    for m in (
        Marketplace("ATVPDKIKX0DER", "US", "Amazon.com", "USD", "en_US", "www.amazon.com"),
        Marketplace("A2EUQ1WTGCTBG2", "CA", "Amazon.ca", "CAD", "en_CA", "www.amazon.ca"),
        Marketplace("A1AM78C64UM0Y8", "MX", "Amazon.com.mx", "MXN", "es_MX", "www.amazon.com.mx"),
        Marketplace("A1F83G8C2ARO7P", "GB", "Amazon.co.uk", "GBP", "en_GB", "www.amazon.co.uk"),
        Marketplace("A1PA6795UKMFR9", "DE", "Amazon.de", "EUR", "de_DE", "www.amazon.de"),
        Marketplace("A13V1IB3VIYZZH", "FR", "Amazon.fr", "EUR", "fr_FR", "www.amazon.fr"),
        Marketplace("APJ6JRA9NG5V4", "IT", "Amazon.it", "EUR", "it_IT", "www.amazon.it"),
        Marketplace("A1RKKUPIHCS9HS", "ES", "Amazon.es", "EUR", "es_ES", "www.amazon.es"),
        Marketplace("A1VC38T7YXB528", "JP", "Amazon.co.jp", "JPY", "ja_JP", "www.amazon.co.jp"),
        Marketplace("A39IBJ37TRP1C6", "AU", "Amazon.com.au", "AUD", "en_AU", "www.amazon.com.au"),
    )
}


@dataclass(frozen=True)
class DemoSeller:
    seller_id: str
    name: str
    region: str
    marketplace_ids: tuple[str, ...]


DEMO_SELLERS: list[DemoSeller] = [
    DemoSeller("A1NASELLER0001", "Acme Outdoor", "NA", ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8")),
    DemoSeller("A2NASELLER0002", "Bright Home", "NA", ("ATVPDKIKX0DER",)),
    DemoSeller(
        "A3EUSELLER0003",
        "Contoso Europe",
        "EU",
        ("A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4", "A1RKKUPIHCS9HS"),
    ),
    DemoSeller("A4FESELLER0004", "Nippon Goods", "FE", ("A1VC38T7YXB528", "A39IBJ37TRP1C6")),
]
SELLERS_BY_ID: dict[str, DemoSeller] = {s.seller_id: s for s in DEMO_SELLERS}


def seller(seller_id: str) -> DemoSeller:
    try:
        return SELLERS_BY_ID[seller_id]
    except KeyError:
        raise KeyError(f"seller_id: unknown seller {seller_id!r}") from None
