"""Amounts of money in one currency, and the checks an amount read from a file or a platform must pass."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

# No seat of any Microsoft 365 licence costs a million a period: a larger amount is a typo of a few zeros
# (or a hostile file), and must not become a price a person reads as real.
MAX_AMOUNT: Final = Decimal(1_000_000)
CENT: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency (ISO 4217 code). Two amounts add only when their currencies are equal."""

    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        return Money(self.amount * factor, self.currency)

    def text(self) -> str:
        """The amount rounded to cents, as text (``"126.00"``): what JSON and CSV carry."""
        return str(self.amount.quantize(CENT))


def checked_amount(value: object) -> Decimal:
    """A price as a Decimal: finite, not negative, below ``MAX_AMOUNT``; ValueError saying why otherwise."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{value!r} is not an amount of money; write it as 12.50") from None
    if not amount.is_finite():
        raise ValueError(f"{value} is not an amount of money; write it as 12.50")
    if amount < 0:
        raise ValueError(f"a price cannot be negative ({amount})")
    if amount >= MAX_AMOUNT:
        raise ValueError(f"{amount} is more than any seat costs (at most {MAX_AMOUNT - 1})")
    return amount


def checked_currency(value: object) -> str:
    """An ISO 4217 currency code (three capital letters); ValueError otherwise."""
    text = str(value)
    if len(text) != 3 or not (text.isascii() and text.isalpha() and text.isupper()):
        raise ValueError(f"{value!r} is not a currency code; write three capital letters such as EUR or USD")
    return text
