"""Amazon's accepted shipment carrier codes and the mapping from what the WMS calls a carrier.

`confirmShipment` requires `carrierCode` in every marketplace; a carrier Amazon does not list goes as
`carrierCode: "Other"` with `carrierName` (ordersV0 model, PackageDetail). The table below is the maintained
list of codes Amazon accepts (the CarrierCode values of Amazon's order fulfillment schema, amzn-base.xsd, and
Seller Central's "Acceptable CarrierCode values" for the marketplaces storesync supports), each with the
marketplaces it serves (None: accepted everywhere) and the usual ways a WMS writes it (aliases).

Matching is case-insensitive and ignores spaces, dots, dashes and underscores ("royal-mail", "ROYAL MAIL" and
"RoyalMail" are one carrier). A known carrier outside its marketplaces, or an unknown carrier, becomes
"Other" with the carrier's name, so Amazon still shows the buyer who delivers. The choice is stored on the
shipment (carrier as given, carrier_code, carrier_name) and returned by the API.

To maintain: add a `Carrier(...)` line; tests/unit/test_carriers.py checks the table is consistent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OTHER = "Other"

NA = frozenset({"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC"})
US = frozenset({"ATVPDKIKX0DER"})
CA = frozenset({"A2EUQ1WTGCTBG2"})
MX = frozenset({"A1AM78C64UM0Y8"})
BR = frozenset({"A2Q3Y263D00KWC"})
UK = frozenset({"A1F83G8C2ARO7P"})
IE = frozenset({"A28R8C7NBKEWEA"})
DE = frozenset({"A1PA6795UKMFR9"})
FR = frozenset({"A13V1IB3VIYZZH"})
IT = frozenset({"APJ6JRA9NG5V4"})
ES = frozenset({"A1RKKUPIHCS9HS"})
NL = frozenset({"A1805IZSGTT6HS"})
SE = frozenset({"A2NODRKZP88ZB9"})
PL = frozenset({"A1C3SOZRARQ6R3"})
BE = frozenset({"AMEN7PMS3EDWL"})
TR = frozenset({"A33AVAJ2PDY3EV"})
AE = frozenset({"A2VIGQ35RCS4UG"})
SA = frozenset({"A17E79C6D8DWNP"})
EG = frozenset({"ARBP9OOSHTCHU"})
IN = frozenset({"A21TJRUUN4KGV"})
ZA = frozenset({"AE08WJ6YKNBMC"})
JP = frozenset({"A1VC38T7YXB528"})
AU = frozenset({"A39IBJ37TRP1C6"})
SG = frozenset({"A19VAU5U5O7RUS"})
EU = UK | IE | DE | FR | IT | ES | NL | SE | PL | BE


@dataclass(frozen=True)
class Carrier:
    code: str  # exactly as Amazon expects it in carrierCode
    aliases: tuple[str, ...] = ()
    marketplaces: frozenset[str] | None = None  # None: accepted in every marketplace


# fmt: off
CARRIERS: tuple[Carrier, ...] = (
    # Global carriers
    Carrier("UPS", ("United Parcel Service", "UPS Ground", "UPS Express")),
    Carrier("UPS Mail Innovations", ("UPSMI", "UPS MI")),
    Carrier("FedEx", ("Federal Express", "FedEx Ground", "FedEx Express", "FDX", "FedEx Home Delivery")),
    Carrier("FedEx SmartPost", ("SmartPost", "FedEx Smart Post")),
    Carrier("DHL", ("DHL Express", "DHL Paket", "DHL Parcel", "DHLEX")),
    Carrier("DHL eCommerce", ("DHL Global Mail", "DHL ecommerce solutions")),
    Carrier("TNT", ("TNT Express",)),
    Carrier("Aramex"),
    Carrier("DPD", ("DPD UK", "DPD Germany", "DPD France", "DPDgroup")),
    Carrier("GLS", ("General Logistics Systems",)),
    Carrier("Asendia"),
    Carrier("Amazon Shipping", ("Amazon Logistics", "AMZL", "Amazon")),
    # North and South America
    Carrier("USPS", ("United States Postal Service", "US Postal Service", "US Mail", "Stamps.com", "Endicia"),
            US),
    Carrier("OnTrac", ("On Trac",), US),
    Carrier("LaserShip", ("Laser Ship",), US),
    Carrier("Newgistics", (), US),
    Carrier("Estes", ("Estes Express",), US),
    Carrier("R+L Carriers", ("RL Carriers",), US),
    Carrier("Canada Post", ("Postes Canada", "CanadaPost"), CA),
    Carrier("Purolator", (), CA),
    Carrier("Canpar", ("Canpar Express",), CA),
    Carrier("Estafeta", (), MX),
    Carrier("Correios", ("Correios Brasil",), BR),
    # Europe
    Carrier("Royal Mail", ("RoyalMail", "Royal Mail Tracked"), UK),
    Carrier("Parcelforce", ("Parcel Force", "Parcelforce Worldwide"), UK),
    Carrier("Yodel", (), UK),
    Carrier("Evri", ("Hermes UK", "myHermes"), UK),
    Carrier("An Post", (), IE),
    Carrier("Deutsche Post", ("DeutschePost", "DP"), DE),
    Carrier("Hermes", ("Hermes Logistik Gruppe", "Hermes Germany"), DE),
    Carrier("GO!", ("GO Express",), DE),
    Carrier("La Poste", ("LaPoste",), FR),
    Carrier("Colissimo", (), FR),
    Carrier("Chronopost", (), FR),
    Carrier("Mondial Relay", (), FR | BE | ES | NL),
    Carrier("Colis Prive", ("Colis Privé",), FR),
    Carrier("Poste Italiane", ("PosteItaliane",), IT),
    Carrier("BRT", ("Bartolini",), IT),
    Carrier("SDA", (), IT),
    Carrier("Correos", ("Correos Espana",), ES),
    Carrier("SEUR", (), ES),
    Carrier("MRW", (), ES),
    Carrier("NACEX", (), ES),
    Carrier("PostNL", ("Post NL",), NL | BE),
    Carrier("Bpost", ("B Post",), BE),
    Carrier("PostNord", ("Post Nord",), SE),
    Carrier("Poczta Polska", ("Polish Post",), PL),
    Carrier("InPost", (), PL | UK),
    Carrier("Yurtici Kargo", ("Yurtici",), TR),
    Carrier("Aras Kargo", ("Aras",), TR),
    Carrier("PTT", ("PTT Kargo",), TR),
    # Middle East, Africa, India
    Carrier("Emirates Post", (), AE),
    Carrier("SMSA", ("SMSA Express",), SA),
    Carrier("Saudi Post", ("SPL",), SA),
    Carrier("Egypt Post", (), EG),
    Carrier("The Courier Guy", (), ZA),
    Carrier("India Post", ("Speed Post",), IN),
    Carrier("Blue Dart", ("BlueDart",), IN),
    Carrier("Delhivery", (), IN),
    Carrier("DTDC", (), IN),
    # Japan, Australia, Singapore
    Carrier("Japan Post", ("JP Post", "Yu-Pack", "Yupack", "Nippon Post"), JP),
    Carrier("Yamato Transport", ("Yamato", "Kuroneko", "YamatoTransport", "TA-Q-BIN"), JP),
    Carrier("Sagawa Express", ("Sagawa", "SagawaExpress"), JP),
    Carrier("Seino Transportation", ("Seino",), JP),
    Carrier("Nippon Express", ("Nittsu", "NipponExpress"), JP),
    Carrier("Australia Post", ("AusPost", "Aus Post", "eParcel"), AU),
    Carrier("StarTrack", ("Star Track",), AU),
    Carrier("Couriers Please", ("CouriersPlease",), AU),
    Carrier("Toll", ("Toll Ipec", "Toll Priority"), AU),
    Carrier("Sendle", (), AU),
    Carrier("Singapore Post", ("SingPost",), SG),
    Carrier("Ninja Van", ("NinjaVan",), SG),
)
# fmt: on


@dataclass(frozen=True)
class CarrierChoice:
    """What goes to Amazon: carrierCode, and carrierName when the code is Other."""

    carrier_code: str
    carrier_name: str | None = None

    @property
    def is_other(self) -> bool:
        return self.carrier_code == OTHER


def carrier_key(name: str) -> str:
    """The comparison key: case-folded, without spaces and punctuation."""
    return re.sub(r"[\s.\-_/'!+]", "", name.casefold())


def _index() -> dict[str, Carrier]:
    index: dict[str, Carrier] = {}
    for carrier in CARRIERS:
        for name in (carrier.code, *carrier.aliases):
            key = carrier_key(name)
            if key in index and index[key] is not carrier:
                raise ValueError(f"carrier alias {name!r} is claimed by {index[key].code} and {carrier.code}")
            index[key] = carrier
    return index


_BY_KEY = _index()


def known_carrier(name: str) -> Carrier | None:
    return _BY_KEY.get(carrier_key(name))


def choose_carrier(carrier: str, marketplace_id: str) -> CarrierChoice:
    """Amazon's carrier code for the WMS carrier `carrier` in `marketplace_id` (Other + name when not listed).

    Raises ValueError for an empty carrier.
    """
    name = " ".join(carrier.split())
    if not name:
        raise ValueError("carrier: required")
    if carrier_key(name) == carrier_key(OTHER):
        raise ValueError('carrier: name the carrier (a carrier called "Other" cannot be tracked)')
    known = known_carrier(name)
    if known is not None and (known.marketplaces is None or marketplace_id in known.marketplaces):
        return CarrierChoice(known.code)
    return CarrierChoice(OTHER, known.code if known is not None else name)
