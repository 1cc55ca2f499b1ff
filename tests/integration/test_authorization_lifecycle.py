"""Issue 15 part 8 through the real handlers on moto: the yearly re-authorization warning on the Stores page,
and APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY received on the notifications queue -> metric + console warning."""

from __future__ import annotations

import json
from datetime import timedelta

import order_import_support as support
from fixtures_stores import ACME, CA, US, Api, connected_store
from storesync.clock import utcnow
from storesync.dal.store_queries import client_secret_expiry


def _body(expires: str, notification_id: str = "n-1") -> str:
    return json.dumps(
        {
            "notificationVersion": "1.0",
            "notificationType": "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY",
            "payloadVersion": "1.0",
            "eventTime": "2026-06-01T00:00:00Z",
            "payload": {
                "applicationOAuthClientSecretExpiry": {
                    "clientId": "amzn1.application-oa2-client.sim",
                    "clientSecretExpiryTime": expires,
                    "clientSecretExpiryReason": "PERIODIC_ROTATION",
                }
            },
            "notificationMetadata": {
                "applicationId": "amzn1.sp.solution.sim",
                "notificationId": notification_id,
            },
        }
    )


def test_yearly_reauthorization_warned_30_days_ahead_on_the_stores_page(
    make_stack, spapi_sim, load_function, lambda_context
):
    stack = support.sim_stack(make_stack, spapi_sim)
    api = Api(load_function("ApiFunction"), lambda_context, spapi_sim, stack)
    due = connected_store(spapi_sim, stack, ACME, US)
    due.update(actions=[type(due).authorized_at.set(utcnow() - timedelta(days=336))])
    fresh = connected_store(spapi_sim, stack, ACME, CA)
    stores = {s["store_id"]: s for s in api("GET", "/stores").json()["stores"]}
    [warning] = stores[due.store_id]["warnings"]
    assert warning["code"] == "authorization_expires_soon" and "Reauthorize the store" in warning["message"]
    assert stores[fresh.store_id]["warnings"] == []
    shown = api("GET", f"/stores/{due.store_id}").json()
    assert [w["code"] for w in shown["warnings"]] == ["authorization_expires_soon"]


def test_client_secret_expiry_notification_records_alarms_and_warns(
    make_stack, spapi_sim, load_function, lambda_context, capsys
):
    h = support.make_harness(make_stack, spapi_sim, load_function, subscribe=False)
    api = Api(load_function("ApiFunction"), lambda_context, spapi_sim, h.stack)
    assert api("GET", "/stores").json()["warnings"] == []
    expires = (utcnow() + timedelta(days=60)).replace(microsecond=0)
    capsys.readouterr()
    event = h.notification_event([_body(expires.strftime("%Y-%m-%dT%H:%M:%SZ")), _body("not a date", "n-2")])
    answer = h.handler(event, h.context)
    # the unreadable one goes back to SQS alone; the readable one is recorded and measured
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == [event["Records"][1]["messageId"]]
    assert client_secret_expiry() == expires
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if "client_secret_expiry" in line
    ]
    metric = next(m for m in emitted if "client_secret_expiry_notices" in m)
    assert metric["client_secret_expiry_notices"] == [1.0]  # EMF: the values of the flush
    [days] = metric["client_secret_expiry_days"]
    assert 59 < days <= 60
    warnings = api("GET", "/stores", merchant="any-merchant").json()["warnings"]
    assert [w["code"] for w in warnings] == ["client_secret_expires"]
    assert f"{expires:%d %b %Y}" in warnings[0]["message"]
