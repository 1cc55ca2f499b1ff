"""Token buckets shared by every Lambda, per seller + region + operation."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model


class QuotaBucket(Model):
    class Meta:
        table_name = "unbound"
        region = "us-east-1"

    bucket_key = UnicodeAttribute(hash_key=True)  # "<selling_partner_id>#<region>#<operation>"
    tokens = NumberAttribute()
    updated_at = NumberAttribute()  # epoch seconds (float)
    blocked_until = NumberAttribute(default=0)  # after a 429: nobody calls before this
