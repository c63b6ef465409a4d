"""`migrate` keeps only the selected subscriptions of the estate for the run: same plan, less memory."""

from __future__ import annotations

from m365move.cli.migrate_command import selected_only
from m365move.domain.orders import MigrationMode
from m365move.domain.planner import Selection, plan_migration
from tests.estate_builder import standard


def test_the_selection_plans_the_same_without_the_rest_of_the_estate() -> None:
    builder = standard()
    for n in range(1, 7):
        builder.subscription(f"300000{n}")
    estate = builder.build()
    selection = Selection(subscription_ids=frozenset({"3000002", "3000005"}))

    trimmed = selected_only(estate, selection)

    assert [s.id for s in trimmed.subscriptions] == ["3000002", "3000005"]
    assert trimmed.customers == estate.customers and trimmed.catalog is estate.catalog
    for mode in MigrationMode:
        assert plan_migration(trimmed, mode, selection=selection) == plan_migration(estate, mode, selection=selection)


def test_no_selection_keeps_the_estate_itself() -> None:
    estate = standard().subscription("3000001").build()
    assert selected_only(estate, Selection()) is estate
