"""The Call2Teams accounts hierarchy: base accounts (a Native Partner) and the sub-accounts under them.

File shape (YAML or JSON; the estate's ``call2teams.accounts`` has the same shape)::

    base_accounts:
      - {id: "NP-100", name: "Northwind Native Partner", partner: "Northwind"}
    sub_accounts:
      - id: "SA-200"
        name: "Contoso"
        parent: "NP-100"            # a base account, or another sub-account (several layers)
        type: client                # client | internal | poc | trial
        partner: "Northwind"        # optional: the partner/reseller; default inherited from the parent chain
        tenant_id: "6f1c…"          # optional: the Microsoft 365 tenant it syncs to
        licences: {pbx: 25, trunk: 2}          # licences held, by type
        licences_in_use: {pbx: 20}            # optional; default: users counted by their ``licence``
        users:
          - {email: alice@contoso.com, name: Alice, sip_username: "1001", phone_number: "+442079460958",
             licence: pbx, external_id: "E-1"}
        services: ["Teams Phone PBX"]
        administrators: ["admin@contoso.com"]

Ids are strings (numbers are read as text).
"""

from __future__ import annotations

from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import msgspec

from m365move.errors import InputError
from m365move.estate import typed
from m365move.files.input_text import parse_json_text, parse_yaml_text

# A count of licences: whole, not negative, and below any real account's (60-digit counts are typos or attacks).
LicenceCount = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class AccountType(str, Enum):
    CLIENT = "client"
    INTERNAL = "internal"
    POC = "poc"
    TRIAL = "trial"


class _Model(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Read with ``typed.convert``: numbers written for text fields are read as their text."""


class AccountUser(_Model, frozen=True, kw_only=True):
    email: str
    name: str = ""
    sip_username: str | None = None
    auth_username: str | None = None
    phone_number: str | None = None
    trunk_number: str | None = None
    caller_id: str | None = None
    external_id: str | None = None
    licence: str | None = None


class BaseAccount(_Model, frozen=True, kw_only=True):
    id: str
    name: str = ""
    partner: str


class SubAccount(_Model, frozen=True, kw_only=True):
    id: str
    name: str = ""
    parent: str
    type: AccountType = AccountType.CLIENT
    partner: str | None = None
    tenant_id: str | None = None
    licences: dict[str, LicenceCount] = {}
    licences_in_use: dict[str, LicenceCount] | None = None
    users: tuple[AccountUser, ...] = ()
    services: tuple[str, ...] = ()
    administrators: tuple[str, ...] = ()

    def in_use(self) -> dict[str, int]:
        """Licences in use by type: as stated, or counted from the users' ``licence``."""
        if self.licences_in_use is not None:
            return {kind: count for kind, count in self.licences_in_use.items() if count > 0}
        return dict(Counter(user.licence for user in self.users if user.licence))


class AccountsHierarchy(_Model, frozen=True, kw_only=True):
    base_accounts: tuple[BaseAccount, ...] = ()
    sub_accounts: tuple[SubAccount, ...] = ()

    def __post_init__(self) -> None:
        ids = [base.id for base in self.base_accounts] + [sub.id for sub in self.sub_accounts]
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
        if duplicates:
            raise ValueError(f"account ids are not unique: {', '.join(duplicates)}")
        known = set(ids)
        for index, sub in enumerate(self.sub_accounts):
            if sub.parent not in known:
                raise ValueError(f"sub_accounts[{index}] ({sub.id}): parent {sub.parent!r} is not an account")
        for sub in self.sub_accounts:
            self._chain(sub)  # raises on a cycle

    def base(self, account_id: str) -> BaseAccount | None:
        return next((b for b in self.base_accounts if b.id == account_id), None)

    def sub(self, account_id: str) -> SubAccount | None:
        return next((s for s in self.sub_accounts if s.id == account_id), None)

    def _chain(self, sub: SubAccount) -> tuple[list[SubAccount], BaseAccount | None]:
        chain = [sub]
        seen = {sub.id}
        parent = sub.parent
        while (next_sub := self.sub(parent)) is not None:
            if next_sub.id in seen:
                raise ValueError(f"sub-account {sub.id}: its parents form a cycle through {next_sub.id}")
            seen.add(next_sub.id)
            chain.append(next_sub)
            parent = next_sub.parent
        return chain, self.base(parent)

    def base_of(self, sub: SubAccount) -> BaseAccount | None:
        """The base account at the top of the sub-account's parent chain."""
        return self._chain(sub)[1]

    def partner_of(self, sub: SubAccount) -> str | None:
        """The sub-account's own partner/reseller, else the nearest ancestor's."""
        chain, base = self._chain(sub)
        for account in chain:
            if account.partner:
                return account.partner
        return base.partner if base else None


def parse_accounts(data: Any, *, where: str) -> AccountsHierarchy:
    """Validate already-parsed data; InputError names the field that is wrong."""
    if not isinstance(data, dict):
        raise InputError("must be a mapping with base_accounts and sub_accounts", where=where)
    try:
        return typed.convert(data, AccountsHierarchy)
    except typed.Invalid as error:
        raise InputError(f"{'.'.join(map(str, error.parts)) or '(top level)'}: {error.message}", where=where) from None


def load_accounts(path: str | Path) -> AccountsHierarchy:
    """Read an accounts hierarchy file (YAML or JSON)."""
    file = Path(path)
    where = str(file)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror})", where=where) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", where=where) from None
    if not text.strip():
        raise InputError("is empty, expected an accounts hierarchy", where=where)
    if file.suffix.lower() == ".json":  # (its own reader: its errors, a repeated key among them, say JSON)
        data = parse_json_text(text, where=where)
    else:
        try:
            data = parse_yaml_text(text, where=where)  # YAML is a superset of JSON: one parser for both
        except InputError as error:
            raise InputError(f"is neither JSON nor YAML: {error.message}", where=error.where) from None
    return parse_accounts(data, where=where)
