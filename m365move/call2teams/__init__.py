"""Call2Teams: tenant snapshots, residual-policy and domain checks, the cleanup script, move readiness,
bulk-import CSVs, and a Graph client for domains (DESIGN §8).

The checks are pure functions of plain values (``check_tenants``, ``assess_move``, ``build_import``);
files and HTTP stay in ``snapshot_loader``, ``accounts.load_accounts``, ``bulk_import_files`` and
``graph_client``.
"""

from m365move.call2teams.accounts import AccountsHierarchy, AccountType, load_accounts, parse_accounts
from m365move.call2teams.bulk_import import MAX_ROWS_PER_FILE, BulkImport, Template, UserRow, build_import
from m365move.call2teams.bulk_import_files import read_users_file, write_import_files
from m365move.call2teams.cleanup_script import ScriptContext, render_cleanup_script
from m365move.call2teams.domain_checks import DEFAULT_DOMAIN_SUFFIX, DomainRules, check_domains
from m365move.call2teams.export_script import export_script_text
from m365move.call2teams.findings import Finding, FindingCode, Severity, Verdict
from m365move.call2teams.graph_client import GraphClient
from m365move.call2teams.move_readiness import MoveMethod, MoveReadinessReport, MoveRequest, assess_move
from m365move.call2teams.residual_checks import DEFAULT_MARKERS, MarkerMatcher, find_residuals
from m365move.call2teams.snapshot import TenantSnapshot
from m365move.call2teams.snapshot_loader import load_tenant_dir, with_graph_domains
from m365move.call2teams.tenant_check import CheckOptions, TenantCheckReport, check_tenants

__all__ = [
    "DEFAULT_DOMAIN_SUFFIX",
    "DEFAULT_MARKERS",
    "MAX_ROWS_PER_FILE",
    "AccountType",
    "AccountsHierarchy",
    "BulkImport",
    "CheckOptions",
    "DomainRules",
    "Finding",
    "FindingCode",
    "GraphClient",
    "MarkerMatcher",
    "MoveMethod",
    "MoveReadinessReport",
    "MoveRequest",
    "ScriptContext",
    "Severity",
    "Template",
    "TenantCheckReport",
    "TenantSnapshot",
    "UserRow",
    "Verdict",
    "assess_move",
    "build_import",
    "check_domains",
    "check_tenants",
    "export_script_text",
    "find_residuals",
    "load_accounts",
    "load_tenant_dir",
    "parse_accounts",
    "read_users_file",
    "render_cleanup_script",
    "with_graph_domains",
    "write_import_files",
]
