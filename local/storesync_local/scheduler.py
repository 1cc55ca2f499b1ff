"""The template's schedules, fired on a simulated clock that runs faster than real time.

EventBridge schedules (`rate(...)` and `cron(...)`, AWS syntax, UTC) are read from the Schedule events of every
function in the template, with their parameters resolved. Each tick hands the rule's `Input` (the constant JSON
the template sets) to the function, exactly what EventBridge delivers to a target with Input.

The simulated clock starts at the real time of start-up and runs `speed` times faster (default 60: one real
second per simulated minute). It only paces the runtime (schedules, visibility timeouts); storesync's own code
and the SP-API simulator keep real time, so their clocks never drift apart (see README.md).
"""

from __future__ import annotations

import calendar
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .template import function_events

log = logging.getLogger("storesync_local.scheduler")

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: n for n, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


class ScheduleError(ValueError):
    pass


class SimulatedClock:
    """Real time since `start`, multiplied by `speed`, plus any manual jumps."""

    def __init__(self, speed: float = 60.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ScheduleError("speed: must be positive")
        self.speed = speed
        self._start = start or datetime.now(UTC)
        self._real_start = time.monotonic()
        self._jumped = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._real_start) * self.speed + self._jumped
        return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ScheduleError("seconds: the clock only moves forward")
        with self._lock:
            self._jumped += seconds
        return self.now()


# -- expressions -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, moment: datetime, anchor: datetime) -> datetime:
        """The first tick strictly after `moment` of a rate schedule that started at `anchor`."""
        periods = int((moment - anchor).total_seconds() // self.seconds) + 1
        return anchor + timedelta(seconds=periods * self.seconds)


def _field(text: str, low: int, high: int, names: dict[str, int] | None, what: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"cron {what}: bad step {step_text!r}")
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names, what), _value(last, names, what)
        else:
            start = _value(part, names, what)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise ScheduleError(f"cron {what}: {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None, what: str) -> int:
    if text.isdigit():
        return int(text)
    if names and text.upper() in names:
        return names[text.upper()]
    raise ScheduleError(f"cron {what}: unsupported value {text!r} (L, W and # are not supported locally)")


@dataclass(frozen=True)
class Cron:
    """AWS cron: minutes hours day-of-month month day-of-week year (day-of-week 1-7 = SUN-SAT)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: "?" (any)
    months: frozenset[int]
    weekdays: frozenset[int] | None  # None: "?" (any); 1 = Sunday
    years: frozenset[int]

    @classmethod
    def parse(cls, body: str) -> Cron:
        parts = body.split()
        if len(parts) != 6:
            raise ScheduleError(f"cron({body}): six fields are required (min hour day month weekday year)")
        minute, hour, day, month, weekday, year = parts
        if (day == "?") == (weekday == "?"):
            raise ScheduleError(f"cron({body}): exactly one of day-of-month and day-of-week must be '?'")
        return cls(
            minutes=_field(minute, 0, 59, None, "minutes"),
            hours=_field(hour, 0, 23, None, "hours"),
            days=None if day == "?" else _field(day, 1, 31, None, "day-of-month"),
            months=_field(month, 1, 12, _MONTHS, "month"),
            weekdays=None if weekday == "?" else _field(weekday, 1, 7, _DAYS, "day-of-week"),
            years=_field(year, 1970, 2199, None, "year"),
        )

    def _day_matches(self, moment: datetime) -> bool:
        if moment.month not in self.months or moment.year not in self.years:
            return False
        if self.days is not None:
            return moment.day in self.days
        assert self.weekdays is not None
        return (moment.isoweekday() % 7) + 1 in self.weekdays  # isoweekday: Mon=1..Sun=7

    def next_after(self, moment: datetime, anchor: datetime | None = None) -> datetime:
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = candidate + timedelta(days=366 * 5)
        while candidate < limit:
            if not self._day_matches(candidate):
                candidate = candidate.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if candidate.hour not in self.hours:
                candidate = candidate.replace(minute=0) + timedelta(hours=1)
                continue
            if candidate.minute not in self.minutes:
                candidate += timedelta(minutes=1)
                continue
            return candidate
        raise ScheduleError("cron: no matching time in the next five years")


def parse_expression(expression: str) -> Rate | Cron:
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value = int(rate.group(1))
        if value <= 0:
            raise ScheduleError(f"{text}: the rate must be positive")
        return Rate(value * _UNIT_SECONDS[rate.group(2).rstrip("s")])
    cron = _CRON.match(text)
    if cron:
        return Cron.parse(cron.group(1))
    raise ScheduleError(f"schedule {expression!r}: expected rate(N minutes|hours|days) or cron(...)")


# -- the schedules of the template -------------------------------------------------------------------------------


@dataclass
class Schedule:
    name: str  # "<function logical id>.<event name>"
    function: str
    expression: str
    input: dict[str, Any]
    rule: Rate | Cron
    next_fire: datetime | None = None
    fired: int = 0


def template_schedules(template: dict[str, Any], parameters: dict[str, str]) -> list[Schedule]:
    """Every enabled Schedule event of every function, expressions and Input resolved."""
    found = []
    for logical_id, event_name, props in function_events(template, "Schedule"):
        expression = _resolve(props["Schedule"], parameters)
        raw_input = props.get("Input")
        payload = json.loads(_resolve(raw_input, parameters)) if raw_input else {}
        name = f"{logical_id}.{event_name}"
        try:
            rule = parse_expression(expression)
        except ScheduleError as exc:
            raise ScheduleError(f"{name}: {exc}") from None
        found.append(Schedule(name, logical_id, expression, payload, rule))
    return found


def _resolve(value: Any, parameters: dict[str, str]) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return parameters[value["Ref"]]
    if not isinstance(value, str):
        raise ScheduleError(f"cannot resolve schedule value {value!r}")
    return value


Invoke = Callable[[str, dict[str, Any]], Any]


@dataclass
class Scheduler:
    """Fires each schedule when the simulated clock passes its next tick (missed ticks coalesce into one)."""

    schedules: list[Schedule]
    clock: SimulatedClock
    invoke: Invoke  # (function logical id, event) -> result
    poll_interval: float = 0.05
    history: list[tuple[str, datetime]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._anchor = self.clock.now()
        for schedule in self.schedules:
            schedule.next_fire = schedule.rule.next_after(self._anchor, self._anchor)

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._run, name="storesync-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(self.poll_interval)

    def run_due(self) -> int:
        """Fire every schedule whose next tick has passed; returns how many fired."""
        now = self.clock.now()
        fired = 0
        for schedule in self.schedules:
            if self._stop.is_set():
                break
            assert schedule.next_fire is not None
            if schedule.next_fire > now:
                continue
            tick = schedule.next_fire
            schedule.next_fire = schedule.rule.next_after(now, self._anchor)
            self.fire(schedule, tick)
            fired += 1
        return fired

    def fire(self, schedule: Schedule, tick: datetime | None = None) -> Any:
        tick = tick or self.clock.now()
        schedule.fired += 1
        self.history.append((schedule.name, tick))
        log.info("schedule %s fired at simulated %s", schedule.name, tick.isoformat())
        try:
            return self.invoke(schedule.function, dict(schedule.input))
        except (
            Exception
        ):  # a failed invocation is logged; EventBridge would retry, the next tick comes anyway
            log.exception("schedule %s: %s failed", schedule.name, schedule.function)
            return None

    def by_name(self, name: str) -> Schedule:
        for schedule in self.schedules:
            if schedule.name == name or schedule.name.endswith("." + name):
                return schedule
        raise KeyError(f"schedule: no schedule named {name!r}")
