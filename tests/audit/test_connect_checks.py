"""The Connect checks on plain values: a migrated asset is clean; each departure is found once, with advice."""

from __future__ import annotations

import datetime as dt

from m365move.audit.connect_checks import audit_connect
from m365move.audit.connect_records import (
    CancelRequest,
    ConnectSnapshot,
    CspAsset,
    CspItem,
    MigrationPurchase,
    NceAsset,
    PcMigration,
)

T0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.timezone.utc)
NOW = T0 + dt.timedelta(days=3)
ASSET = CspAsset("AS-1", "terminated", "PRD-CSP", "MP-1", "TA-1", "TA-C1", "Contoso", "tenant-1",
                 (CspItem("IT-1", "OFFER-1", 10, "legacy-1"),))


def purchase(**changes: object) -> MigrationPurchase:
    values: dict[str, object] = dict(
        id="PR-1", status="approved", created=T0, updated=T0 + dt.timedelta(hours=1), source_asset_id="AS-1",
        source_item_id="IT-1", legacy_subscription_id="legacy-1", tenant_id="tenant-1", nce_asset_id="AS-N1",
        nce_mpn="NCE-1", quantity=10, migration_id="MIG-1", new_subscription_id="new-1", reason="")
    values.update(changes)
    return MigrationPurchase(**values)  # type: ignore[arg-type]


def snapshot(purchases: tuple[MigrationPurchase, ...] = (), cancel_at: dt.datetime = T0 + dt.timedelta(hours=2),
             migrations: tuple[PcMigration, ...] | None = None, seats: int = 10) -> ConnectSnapshot:
    return ConnectSnapshot(
        (ASSET,), purchases or (purchase(),), (CancelRequest("PR-C", "AS-1", "approved", cancel_at, cancel_at),),
        {"AS-N1": NceAsset("AS-N1", "active", (("NCE-1", seats),))},
        (PcMigration("MIG-1", "Completed", "legacy-1", "tenant-1", "new-1", False),) if migrations is None else migrations,
        "test", frozenset({"tenant-1"}))


def codes(audited: ConnectSnapshot) -> list[str]:
    return [f.code.value for f in audit_connect(audited, NOW).findings]


def test_a_migrated_asset_is_clean() -> None:
    audited = audit_connect(snapshot(), NOW)
    assert audited.findings == () and audited.statuses["AS-1"].status == "migrated"


def test_a_cancel_created_before_the_approval() -> None:
    [finding] = audit_connect(snapshot(cancel_at=T0 + dt.timedelta(minutes=30)), NOW).findings
    assert finding.code.value == "cancelled-before-targets-completed" and finding.platform == "Connect"
    assert "do not reinstate" in finding.action


def test_a_microsoft_led_migration_our_purchase_adopted_is_no_duplicate() -> None:
    adopted = (PcMigration("MIG-1", "Completed", "legacy-1", "tenant-1", "new-1", True),)
    assert codes(snapshot(migrations=adopted)) == []


def test_a_microsoft_led_migration_beside_ours() -> None:
    both = (PcMigration("MIG-1", "Completed", "legacy-1", "tenant-1", "new-1", False),
            PcMigration("MS-1", "Completed", "legacy-1", "tenant-1", "new-2", True))
    assert codes(snapshot(migrations=both)) == ["microsoft-led-duplicate"]


def test_seats_and_failed_migrations() -> None:
    assert codes(snapshot(seats=8)) == ["seat-mismatch"]
    failed = (PcMigration("MIG-1", "Failed", "legacy-1", "tenant-1", None, False),)
    assert codes(snapshot(migrations=failed)) == ["approved-migration-failed"]
