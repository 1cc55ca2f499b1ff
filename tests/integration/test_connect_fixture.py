"""The shared `connected_store` helper gives a store whose token really works against the simulator."""

from __future__ import annotations

from fixtures_stores import connected_store, sim_stack
from storesync.dal.store_queries import STATUS_ACTIVE, get_store
from storesync.settings import ProductImportSettings
from storesync.wiring import build_services


def test_connected_store_is_active_with_a_working_encrypted_token(make_stack, spapi_sim):
    stack = sim_stack(make_stack, spapi_sim)
    store = connected_store(spapi_sim, stack, "A1NASELLER0001", "A2EUQ1WTGCTBG2", inventory_buffer=3)

    saved = get_store("merchant-1", store.store_id)
    assert saved is not None
    assert saved.status == STATUS_ACTIVE
    assert saved.seller_key == "A1NASELLER0001#NA"
    assert saved.settings.inventory_buffer == 3
    assert saved.refresh_token_encrypted is not None
    assert b"Atzr|" not in saved.refresh_token_encrypted

    services = build_services(ProductImportSettings.load())
    amazon = services.store_amazon(saved)
    sellers = amazon.sellers()
    answer = amazon.gate.call("getMarketplaceParticipations", sellers.get_marketplace_participation)
    ids = {p["marketplace"]["id"] for p in answer.payload}
    assert "A2EUQ1WTGCTBG2" in ids
