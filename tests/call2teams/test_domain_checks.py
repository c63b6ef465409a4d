"""Call2Teams domain conflicts: more than 2, unverified, foreign, claimed twice, users blocking removal."""

from __future__ import annotations

import pytest

from m365move.call2teams.domain_checks import DomainRules, check_domains
from m365move.call2teams.findings import FindingCode
from m365move.call2teams.snapshot import Domain, TeamsUser, TenantSnapshot
from tests.call2teams.helpers import snapshot

A, B, OLD, NEW = ("contoso-a1b2.call2teams.com", "contoso-c3d4.call2teams.com", "contoso-old9.call2teams.com",
                  "contoso-new7.call2teams.com")
ACCOUNT = DomainRules.of(account_domains=[A, B])


def _domains(*ids: str, unverified: tuple[str, ...] = ()) -> tuple[Domain, ...]:
    return tuple(Domain(d, is_verified=d not in unverified) for d in ("contoso.onmicrosoft.com", *ids))


def _activation(*domains: str) -> tuple[TeamsUser, ...]:
    return tuple(TeamsUser(f"c2t-activation@{d}") for d in domains)


CASES = [
    ("more-than-two", [snapshot(domains=_domains(A, B, OLD))], DomainRules.of(),
     FindingCode.EXTRA_CALL2TEAMS_DOMAINS, (A, B, OLD)),
    ("unverified", [snapshot(domains=_domains(A, NEW, unverified=(NEW,)))], DomainRules.of(),
     FindingCode.UNVERIFIED_CALL2TEAMS_DOMAIN, (NEW,)),
    ("foreign", [snapshot(domains=_domains(A, OLD))], ACCOUNT, FindingCode.FOREIGN_CALL2TEAMS_DOMAIN, (OLD,)),
    ("claimed-twice", [snapshot("t1", domains=_domains(A)), snapshot("t2", domains=_domains(A))], DomainRules.of(),
     FindingCode.DOMAIN_CLAIMED_TWICE, (A,)),
    ("users-in-foreign-domain", [snapshot(domains=_domains(A, B, OLD), users=_activation(A, B, OLD))], ACCOUNT,
     FindingCode.DOMAIN_HAS_USERS, (OLD, f"c2t-activation@{OLD}")),
    ("users-in-unverified-domain", [snapshot(domains=_domains(A, NEW, unverified=(NEW,)),
                                             users=(TeamsUser(f"zed@{NEW}"), TeamsUser(f"amy@{NEW}")))],
     DomainRules.of(), FindingCode.DOMAIN_HAS_USERS, (NEW, f"amy@{NEW}", f"zed@{NEW}")),
]


class TestEachFinding:
    @pytest.mark.parametrize(("snapshots", "rules", "code", "objects"), [c[1:] for c in CASES],
                             ids=[c[0] for c in CASES])
    def test_finding(
        self, snapshots: list[TenantSnapshot], rules: DomainRules, code: FindingCode, objects: tuple[str, ...]
    ) -> None:
        found = [f for f in check_domains(snapshots, rules).findings if f.code is code]
        assert len(found) == 1 and found[0].objects == objects


class TestNoFalseAlarms:
    def test_account_domains_with_their_activation_users_are_fine(self) -> None:
        """Two verified account domains, each holding its activation user: no finding at all."""
        snap = snapshot(domains=_domains(A, B), users=_activation(A, B))
        check = check_domains([snap], ACCOUNT)
        assert check.findings == () and check.removals == ()

    def test_other_domains_are_ignored(self) -> None:
        """Unverified non-Call2Teams domains are the customer's business."""
        snap = snapshot(domains=(Domain("contoso.com", False), Domain("fabrikam.call2teams.com.evil.net", False)))
        assert check_domains([snap], DomainRules.of()).findings == ()

    def test_domains_not_exported_are_not_checked(self) -> None:
        assert check_domains([snapshot(domains=None)], ACCOUNT).findings == ()

    def test_custom_suffix(self) -> None:
        snap = snapshot(domains=(Domain("x.voice.example", False),))
        codes = [f.code for f in check_domains([snap], DomainRules.of(suffix="voice.example")).findings]
        assert codes == [FindingCode.UNVERIFIED_CALL2TEAMS_DOMAIN]


class TestRemovals:
    def test_removals_carry_reasons_and_blocking_users(self) -> None:
        snap = snapshot(domains=_domains(A, B, OLD, NEW, unverified=(NEW,)), users=_activation(A, B, OLD))
        removals = {r.domain: r for r in check_domains([snap], ACCOUNT).removals}
        assert set(removals) == {OLD, NEW}
        assert removals[NEW].reasons == ("unverified", "not the current account's") and removals[NEW].users == ()
        assert removals[OLD].users == (f"c2t-activation@{OLD}",)

    def test_more_than_two_without_account_domains_removes_nothing(self) -> None:
        """Which of 3 verified domains is extra cannot be known without --account-domains."""
        check = check_domains([snapshot(domains=_domains(A, B, OLD))], DomainRules.of())
        assert check.removals == ()
        assert "--account-domains" in check.findings[0].fix

    def test_graph_references_count_as_users(self) -> None:
        """Users Graph reports in domainNameReferences block removal even if users.json lacks them."""
        snap = snapshot(domains=_domains(A, OLD), domain_references={OLD: ("svc@" + OLD,)})
        found = [f for f in check_domains([snap], ACCOUNT).findings if f.code is FindingCode.DOMAIN_HAS_USERS]
        assert found[0].objects == (OLD, "svc@" + OLD)
