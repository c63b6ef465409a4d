"""Shared test values: fixture paths and small snapshot builders."""

from __future__ import annotations

from pathlib import Path

from m365move.call2teams.snapshot import TenantSnapshot

FIXTURES = Path(__file__).parent / "fixtures"
CONTOSO = FIXTURES / "contoso"
FABRIKAM = FIXTURES / "fabrikam"
PARTIAL = FIXTURES / "partial"
NORTHWIND = FIXTURES / "northwind"
NORTHWIND_ID = "9a4e6c2b-7d13-4f58-b0e2-5c8a1d3f6b97"
QUIRKS = FIXTURES / "quirks"
CONTOSO_ID = "6f1c2a9e-4b3d-4c8e-9a51-2d7b0e3f8c14"
CONTOSO_ACCOUNT_DOMAINS = ("contoso-a1b2.call2teams.com", "contoso-c3d4.call2teams.com")


def snapshot(tenant: str = "t1", **collections: object) -> TenantSnapshot:
    """A snapshot with every collection exported (empty) unless given."""
    defaults: dict[str, object] = {
        "voice_routing_policies": (), "voice_routes": (), "pstn_usages": (), "pstn_gateways": (),
        "dial_plans": (), "users": (), "domains": (), "group_policy_assignments": (), "tenant_defaults": (),
    }
    defaults.update(collections)
    return TenantSnapshot(tenant=tenant, source=f"/exports/{tenant}", **defaults)  # type: ignore[arg-type]
