"""Token buckets shared by every Lambda, per seller + region + operation."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from storesync.dal.base import UnboundTableMeta


class QuotaBucket(Model):
    class Meta(UnboundTableMeta):
        pass

    bucket_key = UnicodeAttribute(hash_key=True)  # "<selling_partner_id>#<region>#<operation>"
    tokens = NumberAttribute()
    updated_at = NumberAttribute()  # epoch seconds (float)
    blocked_until = NumberAttribute(default=0)  # after a 429: nobody calls before this
