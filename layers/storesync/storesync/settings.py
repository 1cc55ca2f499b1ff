"""Settings from environment variables, one pydantic model per function, validated at start.

Each function reads only its own variables (template.yaml gives each function exactly these):
DispatchSettings, ProductImportSettings, OrderImportSettings, InventoryPushSettings, ShipmentPushSettings,
ApiSettings. Handlers build their settings once at import (`Settings.load()`); logic receives values, never
reads os.environ. A missing or malformed variable fails the cold start with a message naming the variable.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storesync.jobs import JobName, schedule_seconds


class SettingsError(RuntimeError):
    pass


# The variable naming each job's queue (a function reads those of the jobs it sends to).
QUEUE_URL_FIELDS: dict[JobName, str] = {
    JobName.PRODUCTS: "product_import_queue_url",
    JobName.ORDERS: "order_import_queue_url",
    JobName.INVENTORY: "inventory_push_queue_url",
    JobName.SHIPMENTS: "shipment_push_queue_url",
}


# The schedules of each job (template parameters, given to every function through Globals): its cadence is
# the shortest of their intervals (sync health: a job is late past twice its cadence).
JOB_SCHEDULE_FIELDS: dict[JobName, tuple[str, ...]] = {
    JobName.PRODUCTS: ("new_products_schedule", "full_products_schedule"),
    JobName.ORDERS: ("orders_schedule", "orders_catchup_schedule"),
    JobName.INVENTORY: ("inventory_schedule",),
    JobName.SHIPMENTS: ("shipments_schedule",),
}


class FunctionSettings(BaseSettings):
    """What every storesync function needs: where its tables are, and how often each job runs."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    table_prefix: str = Field(
        min_length=1, description="prefix of every DynamoDB table name (the stack name)"
    )
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    new_products_schedule: str = "rate(30 minutes)"
    full_products_schedule: str = "cron(0 0 * * ? *)"
    orders_schedule: str = "rate(30 minutes)"
    orders_catchup_schedule: str = "cron(0 0,6,12,18 * * ? *)"
    inventory_schedule: str = "rate(20 minutes)"
    shipments_schedule: str = "rate(30 minutes)"
    # the EventBridge bus storesync publishes its events to (template: StoresyncEventBus); empty: none published
    event_bus_name: str = ""

    @field_validator(
        "new_products_schedule",
        "full_products_schedule",
        "orders_schedule",
        "orders_catchup_schedule",
        "inventory_schedule",
        "shipments_schedule",
    )
    @classmethod
    def _schedule(cls, value: str) -> str:
        schedule_seconds(value)  # raises naming the expression
        return value

    @classmethod
    def load(cls) -> Self:
        try:
            return cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
            )
            raise SettingsError(f"invalid environment for {cls.__name__}: {problems}") from exc

    def cadences(self) -> dict[JobName, float]:
        """Seconds between two runs of each job on schedule (the shortest of its schedules)."""
        return {
            job: min(schedule_seconds(getattr(self, name)) for name in names)
            for job, names in JOB_SCHEDULE_FIELDS.items()
        }

    def queue_urls(self) -> dict[JobName, str]:
        """The queues of the jobs this function sends to (its settings name them)."""
        return {
            job: getattr(self, name)
            for job, name in QUEUE_URL_FIELDS.items()
            if name in type(self).model_fields
        }


class AmazonSettings(FunctionSettings):
    """What a function that calls SP-API for a store needs: the LWA credentials and the refresh-token key."""

    kms_key_id: str = Field(min_length=1, description="KMS key for refresh tokens and buyer data")
    lwa_secret_id: str = Field(
        min_length=1, description="Secrets Manager secret with the LWA client id/secret"
    )
    lwa_secret_max_age_seconds: int = Field(
        default=300, ge=0, description="age after which the LWA secret is read again (rotation)"
    )
    spapi_endpoint: str | None = Field(
        default=None, description="override of the SP-API base URL (simulator)"
    )
    spapi_lwa_url: str | None = Field(default=None, description="override of the LWA token URL")
    spapi_quota_scale: float = Field(
        default=1.0, gt=0, description="multiplies Amazon's quotas (simulator only)"
    )


class LongWorkSettings(AmazonSettings):
    """A job whose slices may run long (products, inventory, shipments): the margin it keeps before Lambda's
    timeout. A slice starts no new unit of work once the invocation has less than this left (Lambda's
    context.get_remaining_time_in_millis); it saves its cursor and continues through its queue."""

    remaining_time_margin_seconds: float = Field(
        default=15.0,
        ge=1.0,
        description="seconds before the Lambda timeout at which a slice stops starting new work",
    )


class DispatchSettings(FunctionSettings):
    """Dispatch sends every job: it reads every job queue, and nothing of Amazon."""

    product_import_queue_url: str = Field(min_length=1)
    order_import_queue_url: str = Field(min_length=1)
    inventory_push_queue_url: str = Field(min_length=1)
    shipment_push_queue_url: str = Field(min_length=1)


class ProductImportSettings(LongWorkSettings):
    product_import_queue_url: str = Field(min_length=1, description="its continuations")
    product_slice_rows: int = Field(default=5000, ge=100, description="report rows one invocation writes")
    product_slice_seconds: float = Field(default=30.0, gt=0, description="time budget of one invocation")
    product_report_poll_seconds: float = Field(default=30.0, ge=0, description="delay between report polls")


class OrderImportSettings(AmazonSettings):
    order_import_queue_url: str = Field(min_length=1, description="its continuations")
    inventory_push_queue_url: str = Field(min_length=1, description="the stock-out fast path")
    order_notifications_queue_arn: str = Field(
        default="", description="tells notification records from job records"
    )
    # minutes, fractions allowed (a local run at speed S passes 5 / S: its clocks are real, its schedules S times faster)
    orders_overlap_minutes: float = Field(default=5, ge=0)
    orders_catchup_days: int = Field(default=3, ge=1)
    # a window of order updates that started longer ago than this and holds more than one searchOrders page is read
    # by planner rounds (usecases/order_planner.py); 0: always the searchOrders sweep
    orders_plan_window_minutes: int = Field(default=45, ge=0)


class InventoryPushSettings(LongWorkSettings):
    inventory_push_queue_url: str = Field(min_length=1, description="its continuations")
    inventory_feed_crossover: int | None = Field(
        default=None,
        ge=0,
        description="changes above which the inventory push sends a feed (default: derived)",
    )
    inventory_feed_poll_seconds: float = Field(
        default=30.0, gt=0, description="delay between checks of a processing inventory feed"
    )


class ShipmentPushSettings(LongWorkSettings):
    shipment_push_queue_url: str = Field(min_length=1, description="its continuations")
    shipment_push_max_per_run: int = Field(
        default=150, ge=1, description="shipments one shipment push invocation confirms before continuing"
    )
    shipment_push_seconds: float = Field(default=40.0, gt=0, description="time budget of one shipment push")


class ApiSettings(AmazonSettings):
    """The API sends "sync now" for every job and stock changes: it reads every job queue."""

    product_import_queue_url: str = Field(min_length=1)
    order_import_queue_url: str = Field(min_length=1)
    inventory_push_queue_url: str = Field(min_length=1)
    shipment_push_queue_url: str = Field(min_length=1)
    state_secret_id: str = Field(min_length=1, description="Secrets Manager secret signing OAuth states")
    spapi_application_id: str = Field(min_length=1, description="the SP-API application id (consent page)")
    spapi_app_draft: bool = Field(default=False, description="add version=beta to the consent URL")
    spapi_consent_url: str | None = Field(default=None, description="override of the consent page base")
    public_base_url: str | None = Field(default=None, description="public URL of the API (else from request)")
    console_url: str | None = Field(default=None, description="where the callback sends the browser back")
    order_notifications_queue_arn: str = ""
    local_dev_tokens: bool = Field(default=False, description="local runtime only: GET /local/token")
    local_jwt_secret: str | None = None


class EventRelaySettings(FunctionSettings):
    """The event relay: the outbox table (its tables) and the bus it publishes to (required: without a bus the
    relay would delete events it never sent)."""

    event_bus_name: str = Field(min_length=1, description="the EventBridge bus storesync publishes to")
