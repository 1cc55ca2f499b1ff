"""Issue 15 part 8: the yearly re-authorization warned 30 days ahead, the client-secret-expiry warning, the
alarm in the template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storesync.domain.notices import NoticeCode
from storesync.domain.stores import client_secret_notice, reauthorization_notice
from storesync.usecases.app_notifications import SecretExpiryNotification, is_app_notification

AUTHORIZED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)

BODY = """{"notificationVersion": "1.0", "notificationType": "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY",
 "payloadVersion": "1.0", "eventTime": "2026-06-01T00:00:00Z",
 "payload": {"applicationOAuthClientSecretExpiry": {"clientId": "amzn1.application-oa2-client.x",
   "clientSecretExpiryTime": "2026-09-01T00:00:00Z", "clientSecretExpiryReason": "PERIODIC_ROTATION"}},
 "notificationMetadata": {"applicationId": "amzn1.sp.solution.x", "subscriptionId": "s",
   "publishTime": "2026-06-01T00:00:00Z", "notificationId": "n-1"}}"""


def test_yearly_reauthorization_is_warned_30_days_ahead() -> None:
    ends = AUTHORIZED + timedelta(days=365)
    assert reauthorization_notice(AUTHORIZED, ends - timedelta(days=30, seconds=1)) is None
    warned = reauthorization_notice(AUTHORIZED, ends - timedelta(days=30))
    assert warned is not None and warned.code == NoticeCode.AUTHORIZATION_EXPIRES_SOON
    assert "10 Jan 2027" in warned.message and "Reauthorize" in warned.message
    assert reauthorization_notice(AUTHORIZED, ends + timedelta(days=3)) is not None  # ended: still said
    assert reauthorization_notice(None, ends) is None


def test_client_secret_warning_until_it_expires() -> None:
    expires = datetime(2026, 9, 1, tzinfo=UTC)
    shown = client_secret_notice(expires, expires - timedelta(days=90))
    assert shown is not None and shown.code == NoticeCode.CLIENT_SECRET_EXPIRES
    assert "01 Sep 2026" in shown.message and "Secrets Manager" in shown.message
    assert client_secret_notice(expires, expires + timedelta(seconds=1)) is None
    assert client_secret_notice(None, expires) is None


def test_the_notification_is_read_by_its_type_and_fields() -> None:
    assert is_app_notification(BODY)
    assert not is_app_notification('{"NotificationType": "ORDER_CHANGE"}')
    assert not is_app_notification("not json")
    parsed = SecretExpiryNotification.model_validate_json(BODY).payload.expiry
    assert parsed.expires_at == datetime(2026, 9, 1, tzinfo=UTC)
    assert parsed.client_id == "amzn1.application-oa2-client.x"


def test_template_alarms_the_alarm_topic_on_the_expiry_metric(template: dict[str, Any]) -> None:
    alarm = template["Resources"]["ClientSecretExpiryAlarm"]["Properties"]
    assert alarm["MetricName"] == "client_secret_expiry_notices"
    assert alarm["Namespace"] == "storesync"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    stores = template["Resources"]["StoresTable"]["Properties"]
    assert stores["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
