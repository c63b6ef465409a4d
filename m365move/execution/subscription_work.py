"""One source subscription's intents as the executor moves them along (also what run progress counts)."""

from __future__ import annotations

from dataclasses import dataclass

from m365move.execution.intents import Intent


@dataclass
class SubscriptionWork:
    """One source subscription's intents as the executor moves them along."""

    subscription_id: str
    customer_id: str
    intents: list[Intent]

    def phase(self, number: int) -> list[Intent]:
        return [i for i in self.intents if i.phase == number]

    def replace(self, intent: Intent) -> None:
        self.intents = [intent if i.key == intent.key else i for i in self.intents]

    def first_phase_completed(self) -> bool:
        first = self.phase(1)
        return bool(first) and all(i.completed for i in first)
