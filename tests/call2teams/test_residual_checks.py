"""Residual voice objects and users still assigned them: one table row per situation."""

from __future__ import annotations

from typing import Any

import pytest

from m365move.call2teams.findings import FindingCode, Severity
from m365move.call2teams.residual_checks import Action, MarkerMatcher, find_residuals, residual_findings
from m365move.call2teams.snapshot import (
    DialPlan,
    NormalizationRule,
    PstnGateway,
    TeamsUser,
    VoiceRoute,
    VoiceRoutingPolicy,
)
from m365move.call2teams.tenant_check import CheckOptions, check_tenants
from tests.call2teams.helpers import snapshot

C2T_GW = "sbc1.contoso-a1b2.call2teams.com"

# (id, snapshot collections, expected code, expected objects, expected action or None for user findings)
CASES: list[tuple[str, dict[str, Any], FindingCode, tuple[str, ...], str | None]] = [
    ("policy-named", {"voice_routing_policies": (VoiceRoutingPolicy("Tag:Call2Teams-Policy", ("Local",)),)},
     FindingCode.RESIDUAL_VOICE_ROUTING_POLICY, ("Tag:Call2Teams-Policy",), "remove"),
    ("policy-c2t-upper-case", {"voice_routing_policies": (VoiceRoutingPolicy("Tag:UK-C2T", ()),)},
     FindingCode.RESIDUAL_VOICE_ROUTING_POLICY, ("Tag:UK-C2T",), "remove"),
    ("policy-only-marker-usages", {"voice_routing_policies": (VoiceRoutingPolicy("Tag:Sales", ("call2teams",)),)},
     FindingCode.RESIDUAL_VOICE_ROUTING_POLICY, ("Tag:Sales",), "remove"),
    ("policy-mixed-usages", {"voice_routing_policies": (VoiceRoutingPolicy("Tag:Sales", ("Local", "C2T-Intl")),)},
     FindingCode.RESIDUAL_VOICE_ROUTING_POLICY, ("Tag:Sales",), "detach"),
    ("global-policy-never-removed", {"voice_routing_policies": (VoiceRoutingPolicy("Global", ("Call2Teams",)),)},
     FindingCode.RESIDUAL_VOICE_ROUTING_POLICY, ("Global",), "detach"),
    ("route-named", {"voice_routes": (VoiceRoute("C2T-Route", "C2T-Route", ".*", ("Local",), ("sbc.contoso.com",)),)},
     FindingCode.RESIDUAL_VOICE_ROUTE, ("C2T-Route",), "remove"),
    ("route-only-c2t-gateways", {"voice_routes": (VoiceRoute("Intl", "Intl", ".*", ("Local",), (C2T_GW,)),)},
     FindingCode.RESIDUAL_VOICE_ROUTE, ("Intl",), "remove"),
    ("route-one-of-two-gateways", {"voice_routes": (VoiceRoute("Intl", "Intl", ".*", ("Local",),
                                                                 ("sbc.contoso.com", C2T_GW)),)},
     FindingCode.RESIDUAL_VOICE_ROUTE, ("Intl",), "detach"),
    ("usage", {"pstn_usages": ("Local", "Call2Teams")}, FindingCode.RESIDUAL_PSTN_USAGE, ("Call2Teams",), "remove"),
    ("gateway-by-fqdn", {"pstn_gateways": (PstnGateway(C2T_GW, C2T_GW),)},
     FindingCode.RESIDUAL_PSTN_GATEWAY, (C2T_GW,), "remove"),
    ("dial-plan-named", {"dial_plans": (DialPlan("Tag:C2T-DialPlan", "C2T-DialPlan"),)},
     FindingCode.RESIDUAL_DIAL_PLAN, ("Tag:C2T-DialPlan",), "remove"),
    ("global-dial-plan-rule", {"dial_plans": (DialPlan("Global", "DefaultTenantDialPlan", (
        NormalizationRule("C2T-Ext", "^(\\d{4})$", "+44207946$1"), NormalizationRule("UK", "^0(\\d+)$", "+44$1"))),)},
     FindingCode.RESIDUAL_DIAL_PLAN, ("Global",), "detach"),
    ("rule-marker-in-description", {"dial_plans": (DialPlan("Tag:London", "London", (
        NormalizationRule("Ext", "^(\\d{4})$", "+44$1", "added by Call2Teams"), NormalizationRule("L", "x", "y"))),)},
     FindingCode.RESIDUAL_DIAL_PLAN, ("Tag:London",), "detach"),
    ("user-with-removed-policy", {
        "voice_routing_policies": (VoiceRoutingPolicy("Tag:Call2Teams-Policy", ()),),
        "users": (TeamsUser("bob@contoso.com", voice_routing_policy="Call2Teams-Policy"),
                  TeamsUser("alice@contoso.com", voice_routing_policy="call2teams-policy"),
                  TeamsUser("carol@contoso.com", voice_routing_policy="Sales"))},
     FindingCode.USER_ASSIGNED_RESIDUAL_POLICY, ("alice@contoso.com", "bob@contoso.com"), None),
    ("user-with-policy-only-by-usages", {
        "voice_routing_policies": (VoiceRoutingPolicy("Tag:Sales", ("Call2Teams",)),),
        "users": (TeamsUser("dave@contoso.com", voice_routing_policy="Sales"),)},
     FindingCode.USER_ASSIGNED_RESIDUAL_POLICY, ("dave@contoso.com",), None),
    ("user-with-marker-policy-not-exported", {
        "voice_routing_policies": None, "users": (TeamsUser("erin@contoso.com", dial_plan="C2T-Legacy"),)},
     FindingCode.USER_ASSIGNED_RESIDUAL_POLICY, ("erin@contoso.com",), None),
]


class TestEachFinding:
    @pytest.mark.parametrize(("collections", "code", "objects", "action"),
                             [case[1:] for case in CASES], ids=[case[0] for case in CASES])
    def test_finding(self, collections: dict[str, Any], code: FindingCode, objects: tuple[str, ...],
                     action: str | None) -> None:
        """Exactly one finding of the code, about exactly these objects, with the expected action."""
        findings = [f for f in residual_findings(find_residuals(snapshot(**collections), MarkerMatcher()))
                    if f.code is code]
        assert len(findings) == 1
        assert findings[0].objects == objects and findings[0].severity is Severity.ERROR
        assert findings[0].fix and findings[0].tenant == "t1"
        if action is not None:
            assert findings[0].details["action"] == action

    @pytest.mark.parametrize("collections", [
        {"voice_routing_policies": (VoiceRoutingPolicy("Global", ()), VoiceRoutingPolicy("Tag:Sales", ("Local",)))},
        {"voice_routes": (VoiceRoute("Local", "Local", "^\\+44", ("Local",), ("sbc.contoso.com",)),)},
        {"pstn_usages": ("Local", "International")},
        {"dial_plans": (DialPlan("Global", "", (NormalizationRule("UK", "^0(\\d+)$", "+44$1"),)),)},
        {"users": (TeamsUser("carol@contoso.com", voice_routing_policy="Sales"),)},
    ], ids=["policies", "routes", "usages", "dial-plans", "users"])
    def test_clean_objects_give_no_finding(self, collections: dict[str, Any]) -> None:
        assert residual_findings(find_residuals(snapshot(**collections), MarkerMatcher())) == []


class TestMarkers:
    def test_custom_marker_replaces_defaults(self) -> None:
        """--marker acme finds acme objects and no longer the default call2teams ones."""
        snap = snapshot(pstn_usages=("ACME-Voice", "Call2Teams"))
        plan = find_residuals(snap, MarkerMatcher(("acme",)))
        assert [u.identity for u in plan.pstn_usages] == ["ACME-Voice"]

    def test_blank_markers_are_refused(self) -> None:
        with pytest.raises(ValueError):
            MarkerMatcher(("  ",))

    def test_detach_lists_only_marker_references(self) -> None:
        route = VoiceRoute("Intl", "Intl", ".*", ("Local", "C2T-Intl"), ("sbc.contoso.com", C2T_GW))
        residual = find_residuals(snapshot(voice_routes=(route,)), MarkerMatcher()).voice_routes[0]
        assert residual.action is Action.DETACH
        assert (residual.detach_usages, residual.detach_gateways) == (("C2T-Intl",), (C2T_GW,))


class TestCompleteness:
    def test_not_exported_file_makes_the_verdict_not_ready(self) -> None:
        """Nothing wrong was found, but voice routes were not exported: not ready."""
        report = check_tenants([snapshot(voice_routes=None)], CheckOptions())
        assert report.findings == () and report.verdict.value == "not-ready"

    def test_domains_are_optional_for_the_verdict(self) -> None:
        report = check_tenants([snapshot(domains=None)], CheckOptions())
        assert report.verdict.value == "ready"
