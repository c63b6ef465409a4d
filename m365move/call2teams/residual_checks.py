"""Residual Teams voice objects left by a previous Call2Teams setup, and the users still assigned them.

An object is residual when its identity or name contains a marker (``call2teams``, ``c2t`` by default,
case-insensitive) or when it references one (a PSTN usage, a gateway, a normalization rule). What to do:

- **remove** it when its own name has the marker, or when everything it holds is Call2Teams's (it would
  be left empty or pointing nowhere);
- **detach** the Call2Teams references otherwise, so a customer's own object survives; ``Global``
  policies and dial plans cannot be removed, so they are always detached.

Users granted a policy or dial plan that is to be removed must be unassigned first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from m365move.call2teams.findings import Finding, FindingCode, Severity
from m365move.call2teams.snapshot import TenantSnapshot, policy_name

DEFAULT_MARKERS = ("call2teams", "c2t")


class ObjectKind(str, Enum):
    VOICE_ROUTING_POLICY = "voice routing policy"
    VOICE_ROUTE = "voice route"
    PSTN_USAGE = "PSTN usage"
    PSTN_GATEWAY = "PSTN gateway"
    DIAL_PLAN = "tenant dial plan"


class Action(str, Enum):
    REMOVE = "remove"
    DETACH = "detach"


class PolicyType(str, Enum):
    """The user property a policy is granted through."""

    VOICE_ROUTING_POLICY = "OnlineVoiceRoutingPolicy"
    DIAL_PLAN = "TenantDialPlan"

    @property
    def grant_cmdlet(self) -> str:
        return {PolicyType.VOICE_ROUTING_POLICY: "Grant-CsOnlineVoiceRoutingPolicy",
                PolicyType.DIAL_PLAN: "Grant-CsTenantDialPlan"}[self]


@dataclass(frozen=True, slots=True)
class MarkerMatcher:
    """Case-insensitive substring match against any of the markers."""

    markers: tuple[str, ...] = DEFAULT_MARKERS

    def __post_init__(self) -> None:
        cleaned = tuple(m.strip().lower() for m in self.markers if m.strip())
        if not cleaned:
            raise ValueError("at least one non-empty marker is needed")
        object.__setattr__(self, "markers", cleaned)

    def marker_in(self, *texts: str | None) -> str | None:
        """The first marker found in any of ``texts``, or None."""
        for text in texts:
            lowered = (text or "").lower()
            for marker in self.markers:
                if marker in lowered:
                    return marker
        return None

    def marked(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(name for name in names if self.marker_in(name))


@dataclass(frozen=True, slots=True)
class ResidualObject:
    """One voice object to remove, or to strip of its Call2Teams references."""

    kind: ObjectKind
    identity: str
    action: Action
    reason: str
    detach_usages: tuple[str, ...] = ()
    detach_gateways: tuple[str, ...] = ()
    detach_rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UserAssignment:
    """Users granted a policy (or dial plan) that is to be removed."""

    policy_type: PolicyType
    policy: str
    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResidualPlan:
    """A tenant's residual objects, grouped by kind."""

    tenant: str
    assignments: tuple[UserAssignment, ...] = ()
    voice_routes: tuple[ResidualObject, ...] = ()
    voice_routing_policies: tuple[ResidualObject, ...] = ()
    pstn_usages: tuple[ResidualObject, ...] = ()
    dial_plans: tuple[ResidualObject, ...] = ()
    pstn_gateways: tuple[ResidualObject, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (
            self.assignments or self.voice_routes or self.voice_routing_policies or self.pstn_usages
            or self.dial_plans or self.pstn_gateways
        )


def _remove_or_detach(
    own_marker: str | None, marked_refs: Sequence[str], all_refs: Sequence[str], *, removable: bool, noun: str
) -> tuple[Action, str] | None:
    if own_marker and removable:
        return Action.REMOVE, f"its name contains {own_marker!r}"
    if not marked_refs:
        return (Action.DETACH, f"its name contains {own_marker!r} but it cannot be removed") if own_marker else None
    refs = ", ".join(repr(ref) for ref in marked_refs)
    if removable and len(marked_refs) == len(all_refs):
        return Action.REMOVE, f"every {noun} it holds is Call2Teams's ({refs})"
    return Action.DETACH, f"it references {refs}"


def find_residuals(snapshot: TenantSnapshot, matcher: MarkerMatcher) -> ResidualPlan:
    """The residual objects of one tenant and the users to unassign (kinds not exported are skipped)."""
    routes: list[ResidualObject] = []
    for route in snapshot.voice_routes or ():
        usages, gateways = matcher.marked(route.pstn_usages), matcher.marked(route.gateways)
        own = matcher.marker_in(route.identity, route.name)
        if own:
            decision: tuple[Action, str] | None = (Action.REMOVE, f"its name contains {own!r}")
        elif usages or gateways:
            # A route whose usages or gateways are all Call2Teams's routes nothing once they are gone.
            everything = (usages and len(usages) == len(route.pstn_usages)) or (
                gateways and len(gateways) == len(route.gateways)
            )
            refs = ", ".join(repr(ref) for ref in (*usages, *gateways))
            decision = (Action.REMOVE, f"it only routes through Call2Teams ({refs})") if everything else (
                Action.DETACH, f"it references {refs}")
        else:
            decision = None
        if decision:
            routes.append(ResidualObject(ObjectKind.VOICE_ROUTE, route.identity, *decision,
                                         detach_usages=usages, detach_gateways=gateways))

    policies: list[ResidualObject] = []
    for policy in snapshot.voice_routing_policies or ():
        usages = matcher.marked(policy.pstn_usages)
        decision = _remove_or_detach(matcher.marker_in(policy.identity), usages, policy.pstn_usages,
                                     removable=not policy.is_global, noun="PSTN usage")
        if decision:
            policies.append(ResidualObject(ObjectKind.VOICE_ROUTING_POLICY, policy.identity, *decision,
                                           detach_usages=usages))

    usage_objects = [
        ResidualObject(ObjectKind.PSTN_USAGE, usage, Action.REMOVE, f"its name contains {marker!r}")
        for usage in snapshot.pstn_usages or ()
        if (marker := matcher.marker_in(usage))
    ]

    dial_plans: list[ResidualObject] = []
    for plan in snapshot.dial_plans or ():
        rules = tuple(
            rule.name for rule in plan.normalization_rules
            if matcher.marker_in(rule.name, rule.description, rule.translation)
        )
        decision = _remove_or_detach(matcher.marker_in(plan.identity, plan.simple_name), rules,
                                     [rule.name for rule in plan.normalization_rules],
                                     removable=not plan.is_global, noun="normalization rule")
        if decision:
            dial_plans.append(ResidualObject(ObjectKind.DIAL_PLAN, plan.identity, *decision, detach_rules=rules))

    gateways_found = [
        ResidualObject(ObjectKind.PSTN_GATEWAY, gateway.identity, Action.REMOVE, f"its name contains {marker!r}")
        for gateway in snapshot.pstn_gateways or ()
        if (marker := matcher.marker_in(gateway.identity, gateway.fqdn))
    ]

    return ResidualPlan(
        tenant=snapshot.tenant,
        assignments=_assignments(snapshot, matcher, policies, dial_plans),
        voice_routes=tuple(routes),
        voice_routing_policies=tuple(policies),
        pstn_usages=tuple(usage_objects),
        dial_plans=tuple(dial_plans),
        pstn_gateways=tuple(gateways_found),
    )


def _assignments(
    snapshot: TenantSnapshot,
    matcher: MarkerMatcher,
    policies: Sequence[ResidualObject],
    dial_plans: Sequence[ResidualObject],
) -> tuple[UserAssignment, ...]:
    removed_policies = {policy_name(p.identity).lower() for p in policies if p.action is Action.REMOVE}
    removed_plan_ids = {p.identity for p in dial_plans if p.action is Action.REMOVE}
    removed_plans = {
        name.lower()
        for plan in snapshot.dial_plans or ()
        if plan.identity in removed_plan_ids
        for name in (policy_name(plan.identity), plan.simple_name)
        if name
    }
    # Policy names are case-insensitive in Teams: group by the lowered name, show the first spelling met.
    grouped: dict[tuple[PolicyType, str], list[str]] = {}
    spelling: dict[tuple[PolicyType, str], str] = {}
    for user in snapshot.users or ():
        # A marker in the granted name counts even when the policy itself was not exported or is gone.
        for policy_type, granted, removed in (
            (PolicyType.VOICE_ROUTING_POLICY, user.voice_routing_policy, removed_policies),
            (PolicyType.DIAL_PLAN, user.dial_plan, removed_plans),
        ):
            if granted and (granted.lower() in removed or matcher.marker_in(granted)):
                key = (policy_type, granted.lower())
                spelling.setdefault(key, granted)
                grouped.setdefault(key, []).append(user.user_principal_name)
    return tuple(
        UserAssignment(key[0], spelling[key], tuple(sorted(users, key=str.lower)))
        for key, users in sorted(grouped.items(), key=lambda item: (item[0][0].value, item[0][1]))
    )


_CODES = {
    ObjectKind.VOICE_ROUTING_POLICY: FindingCode.RESIDUAL_VOICE_ROUTING_POLICY,
    ObjectKind.VOICE_ROUTE: FindingCode.RESIDUAL_VOICE_ROUTE,
    ObjectKind.PSTN_USAGE: FindingCode.RESIDUAL_PSTN_USAGE,
    ObjectKind.PSTN_GATEWAY: FindingCode.RESIDUAL_PSTN_GATEWAY,
    ObjectKind.DIAL_PLAN: FindingCode.RESIDUAL_DIAL_PLAN,
}


def residual_findings(plan: ResidualPlan) -> list[Finding]:
    """One finding per residual object and one per policy still granted to users."""
    findings = [
        Finding(
            FindingCode.USER_ASSIGNED_RESIDUAL_POLICY,
            Severity.ERROR,
            assignment.users,
            f"Unassign {assignment.policy_type.value} {assignment.policy!r} from these {len(assignment.users)} "
            f"user(s) ({assignment.policy_type.grant_cmdlet} -PolicyName $null) before removing it; "
            "the cleanup script does this first.",
            tenant=plan.tenant,
            details={"policy": assignment.policy, "policy_type": assignment.policy_type.value},
        )
        for assignment in plan.assignments
    ]
    for residual in (*plan.voice_routes, *plan.voice_routing_policies, *plan.pstn_usages, *plan.dial_plans,
                     *plan.pstn_gateways):
        details: dict[str, object] = {"action": residual.action.value, "reason": residual.reason}
        refs = (*residual.detach_usages, *residual.detach_gateways, *residual.detach_rules)
        if refs:
            details["references"] = list(refs)
        findings.append(Finding(_CODES[residual.kind], Severity.ERROR, (residual.identity,), _fix(residual),
                                tenant=plan.tenant, details=details))
    return findings


def _fix(residual: ResidualObject) -> str:
    noun = residual.kind.value
    if residual.action is Action.REMOVE:
        return (f"Remove {noun} {residual.identity!r} ({residual.reason}) before the next Sync; "
                "the cleanup script does it in dependency order.")
    refs = [f"PSTN usages {list(residual.detach_usages)}" if residual.detach_usages else "",
            f"gateways {list(residual.detach_gateways)}" if residual.detach_gateways else "",
            f"normalization rules {list(residual.detach_rules)}" if residual.detach_rules else ""]
    what = " and ".join(ref for ref in refs if ref)
    return (f"Keep {noun} {residual.identity!r} but remove the Call2Teams {what} from it before the next Sync; "
            "the cleanup script does it.")
