"""Partner Center's migration-create limit, kept on this side so creates go out at the limit and 429s stay rare.

Partner Center counts creates per partner in fixed windows (documented: 100 per 5 minutes); a window opens with
the first create after the previous one closed. ``CreateLimiter`` mirrors that: a task that wants to create asks
for a slot *before* it spends any Partner Center call (look-up, validation). When the current window is full the
task is given a slot in a later window (a booking, keyed by the legacy subscription) and the number of seconds
until that window opens, so the runner reschedules it to just before then (``lead``: it looks up and validates
while the window opens, then its create waits the last moment) instead of letting every waiting task retry at
once. A 429 still wins: its ``Retry-After`` closes the window here too.

The mirror never lets the next window open before Partner Center's: a window's start is moved to the moment
the first create of the window was *answered* (Partner Center opened its window no later than that).

One limiter per process and partner (``create_limiter``): the runner makes a new application instance per task,
so the limiter outlives them as the token cache does. Times are the caller's clock (seconds); the local event
driver passes platform time so the limiter keeps its meaning when the sandbox runs time faster.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Grant:
    """Permission to send one create now (``wait == 0``), else the seconds until this key's booked window opens."""

    key: str
    wait: float
    window: int = -1  # the window the grant counts in (a sequence number)


@dataclass
class _Window:
    number: int
    start: float
    used: int = 0            # granted (in flight or sent) plus booked
    anchored: bool = False   # start moved to the first create's answer
    closed: bool = False     # Partner Center said 429 in this window: no more creates in it
    bookings: dict[str, None] = field(default_factory=dict)


class CreateLimiter:
    """At most ``count`` creates per fixed ``window`` seconds, with bookings for the tasks that must wait."""

    def __init__(self, count: int, window: float) -> None:
        if count < 1 or window <= 0:
            raise ValueError("a create limit needs a positive count and window")
        self.count = count
        self.window = window
        # An unclaimed booking is given to others after this long into its window (the task may never come back).
        self.grace = window / 10
        # A booked task comes back this long before its window opens: it looks up and validates meanwhile, so its
        # create is ready when the window opens (Partner Center's window opens with the first create that arrives).
        self.lead = window / 60
        self._lock = threading.Lock()
        self._windows: list[_Window] = []  # the current window first, then later ones holding bookings
        self._numbers = 0
        self._booked: dict[str, int] = {}  # key -> window number

    # -- the protocol: acquire, then sent / unused ---------------------------------------------------------

    def acquire(self, key: str, now: float) -> Grant:
        """A slot now, or the wait until ``key``'s booked slot (booked by this call when it had none)."""
        with self._lock:
            self._roll(now)
            number = self._booked.get(key)
            if number is not None:
                window = self._window(number)
                if window is not None and now < window.start:
                    return Grant(key, window.start - now, window.number)
                del self._booked[key]
                if window is not None:
                    window.bookings.pop(key, None)
                    if not window.closed:
                        return Grant(key, 0.0, window.number)  # its slot was counted when booked
                # The booking lapsed, or Partner Center closed its window early: queue again.
            current = self._current(now)
            if current is not None and not current.closed and current.used < self.count:
                current.used += 1
                return Grant(key, 0.0, current.number)
            later = self._first_with_room(now)
            later.used += 1
            later.bookings[key] = None
            self._booked[key] = later.number
            return Grant(key, max(0.0, later.start - now), later.number)

    def cancel(self, key: str) -> None:
        """Give a booked slot back (the task will not create: a migration existed, not eligible…)."""
        with self._lock:
            number = self._booked.pop(key, None)
            window = self._window(number) if number is not None else None
            if window is not None and key in window.bookings:
                del window.bookings[key]
                window.used -= 1

    def sent(self, grant: Grant, answered_at: float) -> None:
        """The create reached Partner Center and was answered (it counts in Partner Center's window)."""
        with self._lock:
            window = self._window(grant.window)
            if window is not None and not window.anchored:
                window.anchored = True
                self._shift_from(window, answered_at - window.start)

    def unused(self, grant: Grant) -> None:
        """The task did not create after all (a migration existed, not eligible, an error before sending)."""
        with self._lock:
            window = self._window(grant.window)
            if window is not None and window.used > 0:
                window.used -= 1

    def throttled(self, grant: Grant | None, now: float, retry_after: float) -> None:
        """Partner Center answered 429: its window is full until ``now + retry_after``, and only until then. Ours
        closes and ends at that moment too (a ``Retry-After: 7`` holds creates for 7 s, not for the rest of a
        5-minute window); the windows holding bookings follow it, one after the other."""
        with self._lock:
            self._roll(now)
            window = self._window(grant.window) if grant is not None else None
            if window is not None and window.used > 0:
                window.used -= 1
            current = self._current(now)
            end = now + retry_after
            if current is None:
                current = self._open(end - self.window)
                self._windows.sort(key=lambda w: w.start)
            current.closed = current.anchored = True
            current.start = end - self.window
            following = end
            for later in self._windows[self._windows.index(current) + 1:]:
                later.start = following
                following += self.window

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._booked.clear()

    # -- windows ---------------------------------------------------------------------------------------

    def _roll(self, now: float) -> None:
        """Close windows that ended; drop bookings nobody claimed in time."""
        while self._windows and now >= self._windows[0].start + self.window:
            for key in self._windows.pop(0).bookings:
                self._booked.pop(key, None)
        if self._windows and now >= self._windows[0].start + self.grace:
            head = self._windows[0]
            for key in list(head.bookings):
                del head.bookings[key]
                self._booked.pop(key, None)
                head.used -= 1

    def _current(self, now: float) -> _Window | None:
        if self._windows and self._windows[0].start <= now:
            return self._windows[0]
        if not self._windows:
            return self._open(now)  # a window opens with the first create after the last one closed
        return None

    def _first_with_room(self, now: float) -> _Window:
        for window in self._windows:
            if window.used < self.count and window.start > now and not window.closed:
                return window
        last = self._windows[-1] if self._windows else None
        return self._open(last.start + self.window if last is not None else now)

    def _open(self, start: float) -> _Window:
        self._numbers += 1
        window = _Window(self._numbers, start)
        self._windows.append(window)
        return window

    def _window(self, number: int) -> _Window | None:
        return next((w for w in self._windows if w.number == number), None)

    def _shift_from(self, window: _Window, delta: float) -> None:
        """Move ``window`` and every later one by ``delta`` seconds (only ever later)."""
        if delta <= 0:
            return
        moving = False
        for w in self._windows:
            moving = moving or w is window
            if moving:
                w.start += delta


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limiters: dict[tuple[str, str, int, float], CreateLimiter] = {}

    def get(self, endpoint: str, partner: str, count: int, window: float) -> CreateLimiter:
        key = (endpoint.rstrip("/").lower(), partner.lower(), count, window)
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = self._limiters[key] = CreateLimiter(count, window)
            return limiter

    def clear(self) -> None:
        with self._lock:
            self._limiters.clear()


LIMITERS = _Registry()


def create_limiter(endpoint: str, partner: str, count: int, window: float) -> CreateLimiter:
    """The process's limiter for one partner on one Partner Center endpoint."""
    return LIMITERS.get(endpoint, partner, count, window)
