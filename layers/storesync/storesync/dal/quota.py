"""Token buckets shared by every Lambda, per seller + region + operation: the quota gate's storage.

The gate (storesync.amazon.quota_gate) holds the token-bucket logic and receives a BucketStore; this module is
the DynamoDB one (`DynamoBucketStore`), so the Amazon adapter never touches pynamodb.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError

from storesync.amazon.quotas import BucketState
from storesync.dal.base import TableModel


class QuotaBucket(TableModel):
    bucket_key = UnicodeAttribute(hash_key=True)  # "<selling_partner_id>#<region>#<operation>"
    tokens = NumberAttribute()
    updated_at = NumberAttribute()  # epoch seconds (float)
    blocked_until = NumberAttribute(default=0)  # after a 429: nobody calls before this


class DynamoBucketStore:
    """The BucketStore of storesync.amazon.quota_gate in the QuotaBucket table (conditional writes)."""

    def load(self, key: str) -> BucketState | None:
        try:
            item = QuotaBucket.get(key, consistent_read=True)
        except QuotaBucket.DoesNotExist:
            return None
        return BucketState(float(item.tokens), float(item.updated_at), float(item.blocked_until or 0))

    def save(self, key: str, new: BucketState, expected: BucketState | None) -> bool:
        item = QuotaBucket(key, tokens=new.tokens, updated_at=new.updated_at, blocked_until=new.blocked_until)
        try:
            if expected is None:
                item.save(condition=QuotaBucket.bucket_key.does_not_exist())
            else:
                item.save(condition=QuotaBucket.updated_at == expected.updated_at)
        except (PutError, UpdateError):
            return False
        return True
