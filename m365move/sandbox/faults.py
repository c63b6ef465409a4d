"""Fault injection: what can go wrong in the sandbox, read from a YAML/JSON file, changeable at runtime.

A faults file (every field optional)::

    latency_ms: 50               # added to every API request
    latency_jitter_ms: 20        # plus a uniform random 0..jitter
    rate_429: 0.1                # share of API requests answered 429 with Retry-After
    retry_after_seconds: 1
    rate_5xx: 0.05               # share answered 503 (before any processing)
    rate_drop: 0.01              # share whose connection drops after the request was processed
    rate_fail_after_commit: 0.02 # share processed (an order is created), then answered as a gateway that lost
                                 # the answer would: 502, 503, 504 or a dropped connection
    fail_after_commit_answers: [502, 503, 504, drop]  # which of those (default: all four)
    rate_commit_after_answer: 0.02  # share answered first and committed later (an order appears N s after the
                                 # answer): a gateway that gave up while Commerce still works on the request
    commit_after_answer_seconds: 40  # N: the order is committed this long after the request arrived
    commit_after_answer_answers: [504, timeout]  # 502, 503, 504 or drop at once; timeout: no answer at all (the
                                 # connection is closed after the commit, so a client times out first when N is
                                 # above its timeout) (default: [504])
    max_injected: 3              # stop the HTTP faults above after this many (a transient outage)
    apply_to: ["POST /orders"]   # route templates the HTTP faults hit; empty means every API route
    order_error_rate: 0.1        # share of orders that end in `error`
    error_subscriptions: ["3000001"]  # orders for these source subscriptions end in `error`
    order_processing_seconds: 2  # submitted -> processing (half way) -> completed/error
    seed: 42                     # makes the random choices repeatable

Faults never apply to the admin endpoints (``/_sandbox/...``).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from m365move.errors import InputError
from m365move.estate import typed
from m365move.estate.loader import read_structured_file

Rate = Annotated[float, msgspec.Meta(ge=0, le=1)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
GatewayAnswer = Literal[502, 503, 504, "drop"]
_GATEWAY_ANSWERS: tuple[GatewayAnswer, ...] = (502, 503, 504, "drop")
# What the client gets before a late commit: a gateway's error or dropped connection at once, or nothing ("timeout").
EarlyAnswer = Literal[502, 503, 504, "drop", "timeout"]
_GATEWAY_TIMEOUT: tuple[EarlyAnswer, ...] = (504,)


class Faults(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The fault configuration; the default is a well-behaved platform whose orders take one second."""

    # Bounded: a sandbox that sleeps 1e300 ms per request is a hang, not a fault (10 minutes is the most).
    latency_ms: Annotated[float, msgspec.Meta(ge=0, le=600_000)] = 0.0
    latency_jitter_ms: Annotated[float, msgspec.Meta(ge=0, le=600_000)] = 0.0
    rate_429: Rate = 0.0
    retry_after_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 1.0
    rate_5xx: Rate = 0.0
    rate_drop: Rate = 0.0
    rate_fail_after_commit: Rate = 0.0
    fail_after_commit_answers: Annotated[list[GatewayAnswer], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: list(_GATEWAY_ANSWERS))
    rate_commit_after_answer: Rate = 0.0
    commit_after_answer_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 40.0
    commit_after_answer_answers: Annotated[list[EarlyAnswer], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: list(_GATEWAY_TIMEOUT))
    max_injected: Annotated[int, msgspec.Meta(ge=0)] | None = None
    apply_to: list[str] = []
    order_error_rate: Rate = 0.0
    error_subscriptions: list[str] = []
    order_processing_seconds: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        # No nan or infinity: an infinite processing time or Retry-After is no platform's behaviour.
        typed.finite(self, "latency_ms", "latency_jitter_ms", "retry_after_seconds", "order_processing_seconds",
                     "commit_after_answer_seconds")


def parse_faults(raw: object) -> Faults:
    """Faults from plain data (a file's or a request's); ``typed.Invalid`` naming the field when refused."""
    return typed.convert(raw, Faults)


def load_faults(path: str | Path) -> Faults:
    """Read a faults file (YAML or JSON); InputError names the file and the field."""
    path = Path(path)
    raw = read_structured_file(path)
    if raw is None:
        return Faults()
    if not isinstance(raw, dict):
        raise InputError("a faults file is a mapping such as 'rate_429: 0.1'", where=str(path))
    try:
        return parse_faults(raw)
    except typed.Invalid as error:
        raise InputError(error.message, where=f"{path}: {error.path}" if error.path else str(path)) from None


class HttpFault(str, Enum):
    THROTTLE = "429"
    SERVER_ERROR = "5xx"
    DROP = "drop"
    # The route runs (an order is created), then the client gets a gateway error or a dropped connection.
    FAIL_AFTER_COMMIT = "fail-after-commit"
    # The client gets a gateway error, a dropped connection or no answer; the route runs N seconds later.
    COMMIT_AFTER_ANSWER = "commit-after-answer"


@dataclass(frozen=True, slots=True)
class RequestFaults:
    """What to do to one API request: wait, then maybe answer with a fault instead of (or after) the route."""

    delay_seconds: float
    fault: HttpFault | None
    # For FAIL_AFTER_COMMIT: the status the gateway answers after the route ran, or "drop".
    answer_after_commit: GatewayAnswer | None = None
    # For COMMIT_AFTER_ANSWER: what the client gets, and how long after the request arrived the route runs.
    answer_before_commit: EarlyAnswer | None = None
    commit_after_seconds: float = 0.0


class FaultInjector:
    """Holds the current faults and the random source; thread-safe, shared by the middleware and the state."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self._faults = faults or Faults()
        self._random = random.Random(self._faults.seed)
        self._injected = 0

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def replace(self, faults: Faults) -> None:
        """Swap the configuration (admin endpoint); the random source restarts from the new seed."""
        with self._lock:
            self._faults = faults
            self._random = random.Random(faults.seed)
            self._injected = 0

    def for_request(self, route: str) -> RequestFaults:
        """Decide the latency and the HTTP fault, if any, for a request to ``route`` ("GET /plans/{id}")."""
        with self._lock:
            f = self._faults
            delay = (f.latency_ms + self._random.uniform(0, f.latency_jitter_ms)) / 1000.0
            if f.apply_to and route not in f.apply_to:
                return RequestFaults(delay, None)
            if f.max_injected is not None and self._injected >= f.max_injected:
                return RequestFaults(delay, None)
            # One draw per request keeps the rates independent of each other's order.
            draw = self._random.random()
            fault = None
            answer: GatewayAnswer | None = None
            early: EarlyAnswer | None = None
            if draw < f.rate_429:
                fault = HttpFault.THROTTLE
            elif draw < f.rate_429 + f.rate_5xx:
                fault = HttpFault.SERVER_ERROR
            elif draw < f.rate_429 + f.rate_5xx + f.rate_drop:
                fault = HttpFault.DROP
            elif draw < f.rate_429 + f.rate_5xx + f.rate_drop + f.rate_fail_after_commit:
                fault = HttpFault.FAIL_AFTER_COMMIT
                answer = self._random.choice(f.fail_after_commit_answers)
            elif draw < (f.rate_429 + f.rate_5xx + f.rate_drop + f.rate_fail_after_commit
                         + f.rate_commit_after_answer):
                fault = HttpFault.COMMIT_AFTER_ANSWER
                early = self._random.choice(f.commit_after_answer_answers)
            if fault is not None:
                self._injected += 1
            return RequestFaults(delay, fault, answer, early, f.commit_after_answer_seconds)

    def order_fails(self, related_subscriptions: set[str]) -> bool:
        """Whether a new order ends in ``error``: named subscriptions always, others at ``order_error_rate``."""
        with self._lock:
            f = self._faults
            if related_subscriptions & set(f.error_subscriptions):
                return True
            return f.order_error_rate > 0 and self._random.random() < f.order_error_rate

    def order_processing_seconds(self) -> float:
        with self._lock:
            return self._faults.order_processing_seconds
