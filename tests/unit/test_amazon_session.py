"""One SP-API session per store per invocation (storesync.wiring.Services.store_amazon): the refresh token is
decrypted once, each python-amazon-sp-api client is built once, and nothing outlives the invocation or a new
token, nor is shared between stores. No AWS, no HTTP: the cipher and the library's clients are fakes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fakes import RecordingJobQueue, amazon_order_json
from storesync.amazon.clients import LwaCredentials, SpApiConfig, SpApiFactory
from storesync.amazon.orders import AmazonOrders
from storesync.dal.stores import Store
from storesync.domain.orders import AmazonOrder
from storesync.usecases.order_notifications import OrderChangeBody, OrderChangeHandler
from storesync.usecases.order_upsert import UpsertResult
from storesync.wiring import Services

US = "ATVPDKIKX0DER"
SELLER = "A1SELLER"


class CountingCipher:
    def __init__(self) -> None:
        self.decrypted: list[bytes] = []

    def encrypt(self, plaintext: str, context: dict[str, str]) -> bytes:
        return plaintext.encode()

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> str:
        self.decrypted.append(ciphertext)
        return "token-" + ciphertext.decode()


class FakeOrdersClient:
    def __init__(self, refresh_token: str) -> None:
        self.refresh_token = refresh_token

    def get_order(self, order_id: str, **params: Any) -> dict[str, Any]:
        return {"order": amazon_order_json(order_id)}


class CountingFactory(SpApiFactory):
    """Builds fake library clients and records each one built (api, marketplace, refresh token, options)."""

    def __init__(self) -> None:
        super().__init__(SpApiConfig(), LwaCredentials("client", "secret"))
        self.built: list[tuple[str, str, str, dict[str, Any]]] = []

    def client(self, api: type, marketplace_id: str, refresh_token: str, **kwargs: Any) -> Any:
        self.built.append((api.__name__, marketplace_id, refresh_token, kwargs))
        return FakeOrdersClient(refresh_token)


class Stored:
    def __init__(self) -> None:
        self.orders: list[AmazonOrder] = []

    def upsert(self, store: Store, incoming: AmazonOrder) -> UpsertResult:
        self.orders.append(incoming)
        return UpsertResult(incoming.order_id, "create", "new order", "open")


def a_store(store_id: str, encrypted: bytes) -> Store:
    return Store(
        "m", store_id, name=store_id, marketplace_id=US, region="NA", status="active",
        selling_partner_id=SELLER, refresh_token_encrypted=encrypted, created_at=datetime.now(UTC),
    )  # fmt: skip


def wired() -> tuple[Services, CountingCipher, CountingFactory]:
    cipher, factory = CountingCipher(), CountingFactory()
    services = Services(
        settings=None,  # type: ignore[arg-type]
        kms=None,
        cipher=cipher,
        queue=RecordingJobQueue(),
        spapi=factory,
    )
    return services, cipher, factory


def order_change(notification_id: str, order_id: str) -> dict[str, Any]:
    return {
        "NotificationType": "ORDER_CHANGE",
        "NotificationMetadata": {"NotificationId": notification_id},
        "Payload": {
            "OrderChangeNotification": {
                "SellerId": SELLER,
                "AmazonOrderId": order_id,
                "Summary": {"MarketplaceId": US, "OrderStatus": "UNSHIPPED"},
            }
        },
    }


def test_notifications_of_one_store_decrypt_the_token_once_and_build_the_orders_client_once() -> None:
    services, cipher, factory = wired()
    store = a_store("st_1", b"enc-1")
    stored = Stored()
    handler = OrderChangeHandler(stored, services.store_orders, find_stores=lambda _change: [store])
    services.begin_invocation()
    for n in range(5):
        handler.handle(OrderChangeBody.model_validate(order_change(f"n{n}", f"111-{n}")).change())
    assert [o.order_id for o in stored.orders] == [f"111-{n}" for n in range(5)]
    assert cipher.decrypted == [b"enc-1"]
    assert factory.built == [("OrdersV20260101", US, "token-enc-1", {"version": "2026-01-01"})]


def test_a_session_keeps_one_client_per_api_and_version() -> None:
    services, _, factory = wired()
    session = services.store_amazon(a_store("st_1", b"enc-1"))
    assert session.orders() is session.orders()
    assert session.orders_v0() is session.orders_v0() and session.orders_v0() is not session.orders()
    assert session.listings() is session.listings()
    assert [(api, options) for api, _, _, options in factory.built] == [
        ("OrdersV20260101", {"version": "2026-01-01"}),
        ("OrdersV0", {"version": "v0"}),
        ("ListingsItemsV20210801", {"version": "2021-08-01"}),
    ]


def test_the_session_and_its_gate_are_the_same_for_the_whole_invocation() -> None:
    services, cipher, _ = wired()
    store = a_store("st_1", b"enc-1")
    first = services.store_amazon(store)
    again = services.store_amazon(a_store("st_1", b"enc-1"))  # the same store read again from DynamoDB
    assert again is first and again.gate is first.gate and cipher.decrypted == [b"enc-1"]


def test_a_new_invocation_opens_a_new_session() -> None:
    services, cipher, _ = wired()
    store = a_store("st_1", b"enc-1")
    first = services.store_amazon(store)
    services.begin_invocation()
    assert services.store_amazon(store) is not first
    assert cipher.decrypted == [b"enc-1", b"enc-1"]


def test_a_reauthorized_store_gets_a_new_session_at_once() -> None:
    services, cipher, factory = wired()
    before = services.store_amazon(a_store("st_1", b"enc-1"))
    after = services.store_amazon(a_store("st_1", b"enc-2"))  # the callback stored a new refresh token
    assert after is not before and cipher.decrypted == [b"enc-1", b"enc-2"]
    AmazonOrders(after).get_order("111-1")
    assert factory.built[-1][2] == "token-enc-2"
    assert services.store_amazon(a_store("st_1", b"enc-2")) is after


def test_stores_never_share_a_session() -> None:
    services, cipher, _ = wired()
    us = services.store_amazon(a_store("st_1", b"enc-1"))
    other = services.store_amazon(a_store("st_2", b"enc-1"))  # even with the same ciphertext
    assert us is not other and len(cipher.decrypted) == 2
