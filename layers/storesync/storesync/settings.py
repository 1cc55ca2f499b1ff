"""Settings from environment variables, one pydantic model per function, validated at start.

Handlers build their settings once at import (`Settings.load()`); logic receives values, never reads os.environ.
A missing or malformed variable fails the cold start with a message naming the variable.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    pass


class BaseFunctionSettings(BaseSettings):
    """What every storesync function needs."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    table_prefix: str = Field(
        min_length=1, description="prefix of every DynamoDB table name (the stack name)"
    )
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    kms_key_id: str = Field(min_length=1, description="KMS key for refresh tokens and buyer data")
    lwa_secret_id: str = Field(
        min_length=1, description="Secrets Manager secret with the LWA client id/secret"
    )
    spapi_endpoint: str | None = Field(
        default=None, description="override of the SP-API base URL (simulator)"
    )
    spapi_lwa_url: str | None = Field(default=None, description="override of the LWA token URL")
    spapi_consent_url: str | None = Field(default=None, description="override of the consent page base")
    spapi_quota_scale: float = Field(
        default=1.0, gt=0, description="multiplies Amazon's quotas (simulator only)"
    )
    product_import_queue_url: str = ""
    order_import_queue_url: str = ""
    inventory_push_queue_url: str = ""
    shipment_push_queue_url: str = ""

    @classmethod
    def load(cls) -> Self:
        try:
            return cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
            )
            raise SettingsError(f"invalid environment for {cls.__name__}: {problems}") from exc

    def queue_url(self, job: str) -> str:
        urls = {
            "products": self.product_import_queue_url,
            "orders": self.order_import_queue_url,
            "inventory": self.inventory_push_queue_url,
            "shipments": self.shipment_push_queue_url,
        }
        url = urls.get(job, "")
        if not url:
            raise SettingsError(f"no queue url configured for job {job!r}")
        return url


class ApiSettings(BaseFunctionSettings):
    state_secret_id: str = Field(min_length=1, description="Secrets Manager secret signing OAuth states")
    spapi_application_id: str = Field(min_length=1, description="the SP-API application id (consent page)")
    spapi_app_draft: bool = Field(default=False, description="add version=beta to the consent URL")
    public_base_url: str | None = Field(default=None, description="public URL of the API (else from request)")
    console_url: str | None = Field(default=None, description="where the callback sends the browser back")
    order_notifications_queue_arn: str = ""
    local_dev_tokens: bool = Field(default=False, description="local runtime only: GET /local/token")
    local_jwt_secret: str | None = None


class JobSettings(BaseFunctionSettings):
    order_notifications_queue_arn: str = ""
    orders_overlap_minutes: int = Field(default=5, ge=0)
    orders_catchup_days: int = Field(default=3, ge=1)
    product_slice_rows: int = Field(default=5000, ge=100, description="report rows one invocation writes")
    product_slice_seconds: float = Field(default=30.0, gt=0, description="time budget of one invocation")
    product_report_poll_seconds: float = Field(default=30.0, ge=0, description="delay between report polls")
    inventory_feed_crossover: int | None = Field(
        default=None,
        ge=0,
        description="changes above which the inventory push sends a feed (default: derived)",
    )
    inventory_feed_poll_seconds: float = Field(
        default=30.0, gt=0, description="delay between checks of a processing inventory feed"
    )
    shipment_push_max_per_run: int = Field(
        default=150, ge=1, description="shipments one shipment push invocation confirms before continuing"
    )
    shipment_push_seconds: float = Field(default=40.0, gt=0, description="time budget of one shipment push")
