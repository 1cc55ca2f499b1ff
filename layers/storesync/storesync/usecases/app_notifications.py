"""Amazon's notifications about storesync's own application (not about a seller): today only
APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY, which says when storesync's LWA client secret expires.

Amazon sends it to the SQS queue registered for the application in the Developer Console (the operator registers
the OrderNotificationsQueue there: its policy already lets Amazon send). Handling it records the expiry (the
console shows a warning on the Stores page until then) and publishes the `client_secret_expiry_notices` and
`client_secret_expiry_days` metrics, whose alarm (template.yaml ClientSecretExpiryAlarm) mails the operator.
Rotating the secret: README, "Rotating the LWA client secret".
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from storesync.clock import utcnow
from storesync.dal import store_queries
from storesync.observability import logger, publish_client_secret_expiry

CLIENT_SECRET_EXPIRY = "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY"


class _Expiry(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    client_id: str = Field(alias="clientId", max_length=200)
    expires_at: AwareDatetime = Field(alias="clientSecretExpiryTime")
    reason: str | None = Field(default=None, alias="clientSecretExpiryReason", max_length=200)


class _Payload(BaseModel):
    expiry: _Expiry = Field(alias="applicationOAuthClientSecretExpiry")


class _Kind(BaseModel):
    notification_type: str | None = Field(default=None, alias="notificationType")


class SecretExpiryNotification(BaseModel):
    notification_type: str = Field(alias="notificationType")
    payload: _Payload


def is_app_notification(body: str) -> bool:
    """Whether an SQS body is a notification about the application (by its notificationType)."""
    try:
        return _Kind.model_validate_json(body).notification_type == CLIENT_SECRET_EXPIRY
    except ValidationError:
        return False


def handle_app_notification(body: str, now: datetime | None = None) -> datetime:
    """Record the client secret's expiry and publish the metrics; the expiry. ValidationError (naming the
    field) when the body is not a readable APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY notification."""
    expiry = SecretExpiryNotification.model_validate_json(body).payload.expiry
    store_queries.record_client_secret_expiry(expiry.expires_at)
    days = (expiry.expires_at - (now or utcnow())).total_seconds() / 86400
    publish_client_secret_expiry(days)
    logger.warning(
        "Amazon says storesync's LWA client secret expires: rotate it",
        extra={"client_secret_expires_at": expiry.expires_at.isoformat(), "reason": expiry.reason},
    )
    return expiry.expires_at
