"""Which Commerce instance a file was read from, so that a command refuses a file from another one.

SimpleAPI has no "who am I" call, so the identity is read from what an instance lists first: its first
resellers (``GET /resellers``, offset 0), id and name, in the platform's own order. An estate or a catalog
exported from an instance lists its resellers in that same order, so the identity of a file is computed from
the file itself; a plan file records it (with the URL) when it is written. Two instances whose ids collide
(a staging copy seeded from another tenant's data, a demo estate of another seed) differ by their names.

While an instance has fewer than five resellers, one added later joins the identity: a file read before it
is still accepted when its resellers are still listed first. The URL is recorded for a person to read; the
identity decides. The same instance reached through another
URL (a proxy, a new host name) is the same instance; another instance behind the same URL is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from m365move.domain.estate import Estate
from m365move.errors import InputError

# How many of the first resellers make the identity: enough that two instances do not share them, few
# enough that a reseller added later (listed after the older ones) does not change it.
IDENTITY_RESELLERS = 5
PLATFORM_MISMATCH = "platform-mismatch"


@dataclass(frozen=True)
class PlatformIdentity:
    """An instance: its identity (``resellers:<hex>``), the resellers it was computed from, and the URL read."""

    identity: str
    first_resellers: tuple[tuple[str, str], ...]
    commerce_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"commerce_url": self.commerce_url, "identity": self.identity,
                "first_resellers": [{"id": i, "name": n} for i, n in self.first_resellers]}

    @classmethod
    def from_json(cls, value: Any, where: str) -> PlatformIdentity:
        if not isinstance(value, Mapping) or not isinstance(value.get("identity"), str):
            raise InputError("no platform identity recorded (`platform.identity`)", where=where,
                             hint="write the plan again with `m365move plan --output FILE`")
        firsts = value.get("first_resellers") or []
        pairs = tuple((str(r.get("id")), str(r.get("name"))) for r in firsts if isinstance(r, Mapping))
        url = value.get("commerce_url")
        return cls(value["identity"], pairs, url if isinstance(url, str) else None)

    def same_instance_as(self, live: PlatformIdentity) -> bool:
        """Whether ``live`` is the instance this was read from: equal identities, or (a file read while the
        instance had fewer than five resellers) its resellers still listed first, in the same order, with
        resellers added after them."""
        if self.identity == live.identity:
            return True
        recorded = self.first_resellers
        return bool(recorded) and len(recorded) < IDENTITY_RESELLERS and live.first_resellers[:len(recorded)] == recorded

    def describe(self) -> str:
        """Its first resellers, for a person comparing two instances."""
        return "first resellers " + (", ".join(f"{i} {n!r}" for i, n in self.first_resellers[:2]) or "none")


def identity_of(resellers: Iterable[tuple[str, str]], commerce_url: str | None = None) -> PlatformIdentity:
    """The identity of an instance (or a file read from it) whose resellers are listed in this order."""
    first: list[tuple[str, str]] = []
    for pair in resellers:
        first.append((str(pair[0]), str(pair[1])))
        if len(first) == IDENTITY_RESELLERS:
            break
    digest = hashlib.sha256("\n".join(f"{i}\t{n}" for i, n in first).encode()).hexdigest()[:20]
    return PlatformIdentity(f"resellers:{digest}", tuple(first), commerce_url)


def estate_identity(estate: Estate, commerce_url: str | None = None) -> PlatformIdentity | None:
    """The identity of the instance an estate (or a catalog) was read from; None when it lists no reseller."""
    if not estate.resellers:
        return None
    return identity_of(((r.id, r.name) for r in estate.resellers.values()), commerce_url)


def check_same_platform(recorded: PlatformIdentity | None, live: PlatformIdentity, *, what: str, where: str) -> None:
    """InputError (exit 2, code ``platform-mismatch``) when a file was read from another instance."""
    if recorded is None or recorded.same_instance_as(live):
        return
    raise InputError(
        f"{PLATFORM_MISMATCH}: this {what} was read from another Commerce instance "
        f"({recorded.commerce_url or 'its identity'}: {recorded.describe()}; {live.commerce_url}: {live.describe()}); "
        f"nothing was read or placed",
        where=where,
        hint=f"use the {what} read from {live.commerce_url}, or point --commerce-url at the instance it came from",
    )
