"""The simulator's one clock: real time plus an offset the admin API can advance.

Every time rule (LWA code expiry, token expiry, the two-minute rule, report/feed progression, pending
release, quota refill) reads this clock, so a test can jump forward instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from .errors import sp_error


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the epoch, simulated."""
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("seconds: the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.time()

    def restore_offset(self, offset: float) -> None:
        """Set the offset a saved state had (a restart: real time went on, and so did Amazon's)."""
        with self._lock:
            self._offset = offset

    @property
    def offset(self) -> float:
        return self._offset


def iso(epoch: float) -> str:
    """Amazon's ISO 8601 form: 2026-01-01T10:00:00Z."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    """Parse an ISO 8601 date-time (Z or offset; a bare date/time is taken as UTC) into epoch seconds."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def date_time_field(name: str, value: object) -> float | None:
    """An ISO 8601 date-time given as `name` (a query parameter or a body field) in epoch seconds, None when it
    is not given; anything else is Amazon's 400 InvalidInput naming the field."""
    if value is None:
        return None
    try:
        return parse_iso(str(value))
    except ValueError:
        raise sp_error(400, "InvalidInput", f"{name}: {value!r} is not an ISO 8601 date-time") from None
