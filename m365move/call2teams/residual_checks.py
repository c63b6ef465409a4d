"""Residual Teams voice objects left by a previous Call2Teams setup, and the users still assigned them.

An object is residual when its identity or name contains a marker (``call2teams``, ``c2t`` by default,
case-insensitive) or when it references one (a PSTN usage, a gateway, a normalization rule). What to do:

- **remove** it when its own name has the marker, or when everything it holds is Call2Teams's (it would
  be left empty or pointing nowhere);
- **detach** the Call2Teams references otherwise, so a customer's own object survives; ``Global``
  policies and dial plans cannot be removed, so they are always detached.

Users granted a policy or dial plan that is to be removed must be unassigned first, and so must groups
(group policy assignments); a tenant-wide default (the ``Global`` instance, set by ``Grant-... -Global``)
that carries only Call2Teams's usages or rules is reset (``-PolicyName $null``) instead of detached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
class GroupGrant:
    group_id: str
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class GroupAssignment:
    """Groups granted a policy (or dial plan) that is to be removed (``Get-CsGroupPolicyAssignment``)."""

    policy_type: PolicyType
    policy: str
    groups: tuple[GroupGrant, ...]


@dataclass(frozen=True, slots=True)
class TenantDefaultReset:
    """A tenant-wide default that is Call2Teams's: reset with ``Grant-... -Global -PolicyName $null``."""

    policy_type: PolicyType
    references: tuple[str, ...]
    # The residual policy (or dial plan) whose content the default carries, when one does.
    matches: str | None = None


@dataclass(frozen=True, slots=True)
class ResidualPlan:
    """A tenant's residual objects, grouped by kind."""

    tenant: str
    assignments: tuple[UserAssignment, ...] = ()
    group_assignments: tuple[GroupAssignment, ...] = ()
    tenant_defaults: tuple[TenantDefaultReset, ...] = ()
    voice_routes: tuple[ResidualObject, ...] = ()
    voice_routing_policies: tuple[ResidualObject, ...] = ()
    pstn_usages: tuple[ResidualObject, ...] = ()
    dial_plans: tuple[ResidualObject, ...] = ()
    pstn_gateways: tuple[ResidualObject, ...] = ()
    # For the script's pre-flight: per policy type, the names of what is removed, and the tenant default's
    # content as exported (None when tenant_defaults.json was not exported).
    removed_names: Mapping[PolicyType, tuple[str, ...]] = field(default_factory=dict)
    exported_defaults: Mapping[PolicyType, tuple[str, ...]] | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            self.assignments or self.group_assignments or self.tenant_defaults or self.voice_routes
            or self.voice_routing_policies or self.pstn_usages or self.dial_plans or self.pstn_gateways
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

    removed = _removed_names(snapshot, policies, dial_plans)
    resets = _tenant_default_resets(snapshot, matcher, removed)
    reset_types = {reset.policy_type for reset in resets}
    # A reset default replaces detaching Call2Teams's references from the same Global instance.
    if PolicyType.VOICE_ROUTING_POLICY in reset_types:
        policies = [p for p in policies if policy_name(p.identity).lower() != "global"]
    if PolicyType.DIAL_PLAN in reset_types:
        dial_plans = [p for p in dial_plans if policy_name(p.identity).lower() != "global"]
    exported_defaults: dict[PolicyType, tuple[str, ...]] | None = None
    if snapshot.tenant_defaults is not None:
        exported_defaults = {PolicyType.VOICE_ROUTING_POLICY: (), PolicyType.DIAL_PLAN: ()}
        for default in snapshot.tenant_defaults:
            if (kind := _policy_type(default.policy_type)) is not None:
                exported_defaults[kind] = (default.usages if kind is PolicyType.VOICE_ROUTING_POLICY
                                           else tuple(rule.name for rule in default.rules))

    return ResidualPlan(
        tenant=snapshot.tenant,
        assignments=_assignments(snapshot, matcher, removed),
        group_assignments=_group_assignments(snapshot, matcher, removed),
        tenant_defaults=resets,
        voice_routes=tuple(routes),
        voice_routing_policies=tuple(policies),
        pstn_usages=tuple(usage_objects),
        dial_plans=tuple(dial_plans),
        pstn_gateways=tuple(gateways_found),
        removed_names=_removed_spellings(snapshot, policies, dial_plans),
        exported_defaults=exported_defaults,
    )


def _policy_type(text: str) -> PolicyType | None:
    return next((kind for kind in PolicyType if kind.value.lower() == text.strip().lower()), None)


def _removed_names(
    snapshot: TenantSnapshot, policies: Sequence[ResidualObject], dial_plans: Sequence[ResidualObject]
) -> dict[PolicyType, set[str]]:
    """Per policy type, every name a removed policy is granted by (lower-cased: Teams compares them so)."""
    removed_plan_ids = {p.identity for p in dial_plans if p.action is Action.REMOVE}
    return {
        PolicyType.VOICE_ROUTING_POLICY: {
            policy_name(p.identity).lower() for p in policies if p.action is Action.REMOVE
        },
        PolicyType.DIAL_PLAN: {
            name.lower()
            for plan in snapshot.dial_plans or ()
            if plan.identity in removed_plan_ids
            for name in (policy_name(plan.identity), plan.simple_name)
            if name
        },
    }


def _removed_spellings(
    snapshot: TenantSnapshot, policies: Sequence[ResidualObject], dial_plans: Sequence[ResidualObject]
) -> dict[PolicyType, tuple[str, ...]]:
    """The names of ``_removed_names`` as the tenant spells them (the script compares case-insensitively)."""
    removed_plan_ids = {p.identity for p in dial_plans if p.action is Action.REMOVE}
    spellings = {
        PolicyType.VOICE_ROUTING_POLICY: [policy_name(p.identity) for p in policies if p.action is Action.REMOVE],
        PolicyType.DIAL_PLAN: [name for plan in snapshot.dial_plans or () if plan.identity in removed_plan_ids
                               for name in (policy_name(plan.identity), plan.simple_name) if name],
    }
    return {kind: tuple({name.lower(): name for name in reversed(names)}.values())[::-1]
            for kind, names in spellings.items()}


def _is_residual_grant(granted: str, removed: set[str], matcher: MarkerMatcher) -> bool:
    # A marker in the granted name counts even when the policy itself was not exported or is gone.
    return granted.lower() in removed or matcher.marker_in(granted) is not None


def _tenant_default_resets(
    snapshot: TenantSnapshot, matcher: MarkerMatcher, removed: dict[PolicyType, set[str]]
) -> tuple[TenantDefaultReset, ...]:
    """Tenant-wide defaults that hold nothing but Call2Teams's usages (or rules): they were granted from it."""
    resets: list[TenantDefaultReset] = []
    for default in snapshot.tenant_defaults or ():
        kind = _policy_type(default.policy_type)
        if kind is PolicyType.VOICE_ROUTING_POLICY:
            content = default.usages
            marked = matcher.marked(content)
            candidates = {policy_name(p.identity): set(p.pstn_usages) for p in snapshot.voice_routing_policies or ()
                          if policy_name(p.identity).lower() in removed[kind] and p.pstn_usages}
        elif kind is PolicyType.DIAL_PLAN:
            content = tuple(rule.name for rule in default.rules)
            marked = tuple(rule.name for rule in default.rules
                           if matcher.marker_in(rule.name, rule.description, rule.translation))
            candidates = {plan.name: {rule.name for rule in plan.normalization_rules}
                          for plan in snapshot.dial_plans or ()
                          if plan.name.lower() in removed[kind] and plan.normalization_rules}
        else:
            continue
        matches = next((name for name, held in candidates.items() if held == set(content)), None)
        if content and (matches or len(marked) == len(content)):
            resets.append(TenantDefaultReset(kind, marked or content, matches))
    return tuple(resets)


def _assignments(
    snapshot: TenantSnapshot, matcher: MarkerMatcher, removed: dict[PolicyType, set[str]]
) -> tuple[UserAssignment, ...]:
    # Policy names are case-insensitive in Teams: group by the lowered name, show the first spelling met.
    grouped: dict[tuple[PolicyType, str], list[str]] = {}
    spelling: dict[tuple[PolicyType, str], str] = {}
    for user in snapshot.users or ():
        for policy_type, granted in (
            (PolicyType.VOICE_ROUTING_POLICY, user.voice_routing_policy),
            (PolicyType.DIAL_PLAN, user.dial_plan),
        ):
            if granted and _is_residual_grant(granted, removed[policy_type], matcher):
                key = (policy_type, granted.lower())
                spelling.setdefault(key, granted)
                grouped.setdefault(key, []).append(user.user_principal_name)
    return tuple(
        UserAssignment(key[0], spelling[key], tuple(sorted(users, key=str.lower)))
        for key, users in sorted(grouped.items(), key=lambda item: (item[0][0].value, item[0][1]))
    )


def _group_assignments(
    snapshot: TenantSnapshot, matcher: MarkerMatcher, removed: dict[PolicyType, set[str]]
) -> tuple[GroupAssignment, ...]:
    grouped: dict[tuple[PolicyType, str], list[GroupGrant]] = {}
    spelling: dict[tuple[PolicyType, str], str] = {}
    for assignment in snapshot.group_policy_assignments or ():
        policy_type = _policy_type(assignment.policy_type)
        granted = policy_name(assignment.policy_name)
        if policy_type is None or not granted or not _is_residual_grant(granted, removed[policy_type], matcher):
            continue
        key = (policy_type, granted.lower())
        spelling.setdefault(key, granted)
        grouped.setdefault(key, []).append(GroupGrant(assignment.group_id, assignment.rank))
    return tuple(
        GroupAssignment(key[0], spelling[key],
                        tuple(sorted(groups, key=lambda g: (g.rank is None, g.rank or 0, g.group_id.lower()))))
        for key, groups in sorted(grouped.items(), key=lambda item: (item[0][0].value, item[0][1]))
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
    findings += [
        Finding(
            FindingCode.GROUP_ASSIGNED_RESIDUAL_POLICY,
            Severity.ERROR,
            tuple(group.group_id for group in assignment.groups),
            f"Remove the group policy assignments of {assignment.policy_type.value} {assignment.policy!r} from "
            f"these {len(assignment.groups)} group(s) ("
            + ", ".join(f"{g.group_id} rank {g.rank if g.rank is not None else '?'}" for g in assignment.groups)
            + f"; Remove-CsGroupPolicyAssignment -GroupId <id> -PolicyType "
            f"{assignment.policy_type.value}) before removing it: Teams refuses to remove a policy still granted "
            "to a group. The cleanup script does this before any removal.",
            tenant=plan.tenant,
            details={"policy": assignment.policy, "policy_type": assignment.policy_type.value,
                     "groups": [{"group_id": g.group_id, "rank": g.rank} for g in assignment.groups]},
        )
        for assignment in plan.group_assignments
    ]
    findings += [
        Finding(
            FindingCode.TENANT_DEFAULT_RESIDUAL_POLICY,
            Severity.ERROR,
            ("Global",),
            f"The tenant-wide default {reset.policy_type.value} (its Global instance, set by "
            f"{reset.policy_type.grant_cmdlet} -Global) is Call2Teams's"
            + (f" (granted from {reset.matches!r})" if reset.matches else "")
            + f": reset it with {reset.policy_type.grant_cmdlet} -Global -PolicyName $null before removing any "
            "policy. The cleanup script does this before any removal.",
            tenant=plan.tenant,
            details={"policy_type": reset.policy_type.value, "policy": reset.matches,
                     "references": list(reset.references)},
        )
        for reset in plan.tenant_defaults
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
