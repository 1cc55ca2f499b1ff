"""The carrier table: Amazon's codes, case-insensitive aliases, marketplace limits, Other + name fallback."""

from __future__ import annotations

import pytest
from storesync.domain.carriers import (
    CARRIERS,
    OTHER,
    CarrierChoice,
    carrier_key,
    choose_carrier,
    known_carrier,
)
from storesync.marketplaces import MARKETPLACES

MARKETPLACE_IDS = {m.marketplace_id for m in MARKETPLACES}

US, CA, UK, DE, JP, AU, FR = (
    "ATVPDKIKX0DER",
    "A2EUQ1WTGCTBG2",
    "A1F83G8C2ARO7P",
    "A1PA6795UKMFR9",
    "A1VC38T7YXB528",
    "A39IBJ37TRP1C6",
    "A13V1IB3VIYZZH",
)


@pytest.mark.parametrize(
    ("given", "marketplace_id", "code"),
    [
        ("usps", US, "USPS"),
        ("United States Postal Service", US, "USPS"),
        ("ups", US, "UPS"),
        ("UPS", DE, "UPS"),
        ("fedex", US, "FedEx"),
        ("FED-EX", US, "FedEx"),
        ("Federal Express", CA, "FedEx"),
        ("dhl", DE, "DHL"),
        ("DHL Express", JP, "DHL"),
        ("royal mail", UK, "Royal Mail"),
        ("ROYAL-MAIL", UK, "Royal Mail"),
        ("RoyalMail", UK, "Royal Mail"),
        ("deutsche post", DE, "Deutsche Post"),
        ("japan post", JP, "Japan Post"),
        ("Yu-Pack", JP, "Japan Post"),
        ("yamato", JP, "Yamato Transport"),
        ("canada post", CA, "Canada Post"),
        ("australia post", AU, "Australia Post"),
        ("AusPost", AU, "Australia Post"),
        ("  La   Poste ", FR, "La Poste"),
    ],
)
def test_known_carriers_map_to_amazons_code_whatever_the_case(
    given: str, marketplace_id: str, code: str
) -> None:
    assert choose_carrier(given, marketplace_id) == CarrierChoice(code)


def test_an_unknown_carrier_goes_as_other_with_its_name() -> None:
    choice = choose_carrier("  Speedy   Local Couriers ", US)
    assert choice == CarrierChoice(OTHER, "Speedy Local Couriers")
    assert choice.is_other


def test_a_carrier_outside_its_marketplaces_goes_as_other_with_amazons_spelling() -> None:
    # Royal Mail is a UK code; shipping a US order with it is still possible, named.
    assert choose_carrier("royal mail", US) == CarrierChoice(OTHER, "Royal Mail")
    assert choose_carrier("usps", JP) == CarrierChoice(OTHER, "USPS")


@pytest.mark.parametrize("bad", ["", "   ", "other", "OTHER"])
def test_an_empty_or_other_carrier_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="carrier"):
        choose_carrier(bad, US)


def test_every_alias_names_one_carrier_and_every_marketplace_is_real() -> None:
    seen: dict[str, str] = {}
    for carrier in CARRIERS:
        assert carrier.code and carrier.code != OTHER
        for name in (carrier.code, *carrier.aliases):
            key = carrier_key(name)
            assert seen.setdefault(key, carrier.code) == carrier.code, name
            assert known_carrier(name) is carrier
        for marketplace_id in carrier.marketplaces or ():
            assert marketplace_id in MARKETPLACE_IDS, (carrier.code, marketplace_id)


def test_every_supported_marketplace_has_a_national_carrier() -> None:
    for marketplace_id in MARKETPLACE_IDS:
        local = [c for c in CARRIERS if c.marketplaces is not None and marketplace_id in c.marketplaces]
        assert local, marketplace_id
