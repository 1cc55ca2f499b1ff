"""Dispatch: a schedule tick becomes one job message per store that should run it.

Product imports go only to active stores whose download setting is on (B5); every other job goes to every
active store, because changes made on Amazon always flow (B13).
"""

from __future__ import annotations

from collections.abc import Iterable

from storesync.dal.stores import Store
from storesync.jobs import JobMessage, JobName, ScheduleInput
from storesync.queues import JobQueue


def stores_for(job: JobName, stores: Iterable[Store]) -> list[Store]:
    if job == JobName.PRODUCTS:
        return [s for s in stores if s.settings.download_products_and_orders]
    return list(stores)


def dispatch(schedule: ScheduleInput, stores: Iterable[Store], queue: JobQueue) -> int:
    messages = [
        JobMessage(job=schedule.job, mode=schedule.mode, merchant_id=s.merchant_id, store_id=s.store_id)
        for s in stores_for(schedule.job, stores)
    ]
    if messages:
        queue.send_many(messages)
    return len(messages)
