"""Store rules and consent-state signing: plain Python, no AWS."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from storesync.api.errors import field_of
from storesync.domain.consent_state import STATE_TTL_SECONDS, StateRejected, StateSigner
from storesync.domain.stores import SettingsPatch, StoreCreate, unknown_warehouses
from storesync.marketplaces import MARKETPLACES


def _field(model, data) -> str | None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return field_of(caught.value.errors()[0])


def test_store_create_defaults_and_trimmed_name():
    store = StoreCreate.model_validate({"name": "  Acme  ", "marketplace_id": "A1PA6795UKMFR9"})
    assert store.name == "Acme"
    assert store.download_products_and_orders is True and store.starting_inventory == "keep"


@pytest.mark.parametrize("marketplace", [m.marketplace_id for m in MARKETPLACES])
def test_every_marketplace_is_accepted(marketplace):
    assert (
        StoreCreate.model_validate({"name": "x", "marketplace_id": marketplace}).marketplace_id == marketplace
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "marketplace_id": "ATVPDKIKX0DER"}, "name"),
        ({"name": "x" * 101, "marketplace_id": "ATVPDKIKX0DER"}, "name"),
        ({"name": "x", "marketplace_id": "atvpdkikx0der"}, "marketplace_id"),
        ({"name": "x", "marketplace_id": 1}, "marketplace_id"),
        ({"name": "x", "marketplace_id": "ATVPDKIKX0DER", "starting_inventory": "Match"}, "starting_inventory"),
        ({"name": "x", "marketplace_id": "ATVPDKIKX0DER", "download_products_and_orders": "true"}, "download_products_and_orders"),
        ({"name": "x", "marketplace_id": "ATVPDKIKX0DER", "extra": 1}, "extra"),
    ],
)  # fmt: skip
def test_store_create_rejects(data, field):
    assert _field(StoreCreate, data) == field


def test_settings_patch_keeps_only_sent_fields():
    patch = SettingsPatch.model_validate({"inventory_buffer": 0, "max_quantity": None})
    assert patch.changes() == {"inventory_buffer": 0, "max_quantity": None}
    assert SettingsPatch.model_validate({}).changes() == {}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"inventory_buffer": -1}, "inventory_buffer"),
        ({"inventory_buffer": True}, "inventory_buffer"),
        ({"inventory_buffer": 2.0}, "inventory_buffer"),
        ({"max_quantity": -1}, "max_quantity"),
        ({"max_quantity": 10_000_001}, "max_quantity"),
        ({"import_pending_orders": None}, "import_pending_orders"),
        ({"warehouses": ["a", "a"]}, "warehouses"),
        ({"warehouses": [""]}, "warehouses"),
        ({"warehouses": [1]}, "warehouses"),
        ({"remove_stock_for_external_fulfillments": "no"}, "remove_stock_for_external_fulfillments"),
    ],
)
def test_settings_patch_rejects(data, field):
    assert _field(SettingsPatch, data) == field


def test_unknown_warehouses_uses_the_lookup():
    assert unknown_warehouses(["primary", "wh_1", "wh_2"], {"primary", "wh_1"}.__contains__) == ["wh_2"]


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_state_round_trip_and_expiry():
    clock = Clock()
    signer = StateSigner(b"key", clock=clock)
    issued = signer.issue()
    assert issued.expires_at == 1_000_000 + STATE_TTL_SECONDS
    assert signer.verify(issued.value) == issued.nonce
    clock.now += STATE_TTL_SECONDS - 1
    assert signer.verify(issued.value) == issued.nonce
    clock.now += 1
    with pytest.raises(StateRejected, match="expired"):
        signer.verify(issued.value)


def test_states_are_unique():
    signer = StateSigner(b"key")
    assert len({signer.issue().nonce for _ in range(50)}) == 50


@pytest.mark.parametrize("tamper", ["nonce", "expiry", "signature", "key"])
def test_tampered_state_is_rejected(tamper):
    clock = Clock()
    signer = StateSigner(b"key", clock=clock)
    nonce, expires, signature = signer.issue().value.split(".")
    if tamper == "nonce":
        value = f"x{nonce}.{expires}.{signature}"
    elif tamper == "expiry":
        value = f"{nonce}.{int(expires) + 3600}.{signature}"
    elif tamper == "signature":
        value = f"{nonce}.{expires}.{signature[:-2]}AA"
    else:
        value = StateSigner(b"other key", clock=clock).issue().value
    with pytest.raises(StateRejected, match="not one storesync issued"):
        signer.verify(value)


@pytest.mark.parametrize("value", ["", "a.b", "a.b.c.d", "a.notanumber.c", "..", "a..c"])
def test_malformed_state_is_rejected(value):
    with pytest.raises(StateRejected):
        StateSigner(b"key").verify(value)


def test_empty_key_is_refused():
    with pytest.raises(ValueError, match="key"):
        StateSigner(b"")
