"""Loading real-shaped PowerShell exports: each ConvertTo-Json quirk, and clear errors for bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from m365move.call2teams.powershell_json import decode_export, is_truncated, parse_export
from m365move.call2teams.snapshot import DialPlan, NormalizationRule, TeamsUser, VoiceRoutingPolicy
from m365move.call2teams.snapshot_loader import load_tenant_dir
from m365move.errors import InputError
from tests.call2teams.helpers import CONTOSO, CONTOSO_ID, FABRIKAM, PARTIAL, QUIRKS


def _tenant_with(tmp_path: Path, target: str, quirk: str) -> Path:
    """The Contoso export with one file replaced by a quirk fixture."""
    folder = tmp_path / "tenant"
    shutil.copytree(CONTOSO, folder)
    shutil.copyfile(QUIRKS / quirk, folder / target)
    return folder


class TestFixtureExports:
    def test_contoso_loads_every_collection(self) -> None:
        """The full Contoso export loads with tenant id, names and references intact."""
        snap = load_tenant_dir(CONTOSO)
        assert snap.tenant == CONTOSO_ID and snap.tenant_name == "Contoso Ltd"
        assert snap.not_exported == ()
        assert VoiceRoutingPolicy("Tag:Call2Teams-Policy", ("Call2Teams",), "Created by Call2Teams Sync") in (
            snap.voice_routing_policies or ())
        route = next(r for r in snap.voice_routes or () if r.identity == "Call2Teams-Route")
        assert route.gateways == ("sbc1.contoso-a1b2.call2teams.com", "sbc2.contoso-a1b2.call2teams.com")
        assert route.number_pattern == ".*" and route.priority == 0
        assert snap.pstn_usages == ("UK-Local", "Call2Teams", "C2T-International")
        global_plan = next(p for p in snap.dial_plans or () if p.is_global)
        assert [r.name for r in global_plan.normalization_rules] == ["C2T-Extensions", "UK-National"]
        alice = next(u for u in snap.users or () if u.user_principal_name == "alice@contoso.com")
        assert (alice.voice_routing_policy, alice.dial_plan) == ("Call2Teams-Policy", "Call2Teams-DialPlan")
        bob = next(u for u in snap.users or () if u.user_principal_name == "bob@contoso.com")
        assert bob.dial_plan is None  # "" from [string]$null means no dial plan
        assert {d.id for d in snap.domains or ()} >= {"contoso-a1b2.call2teams.com", "contoso-new7.call2teams.com"}

    def test_folder_name_labels_a_tenant_without_tenant_json(self) -> None:
        """Without tenant.json the folder name is the tenant; a bare domains array loads too."""
        snap = load_tenant_dir(FABRIKAM)
        assert snap.tenant == "fabrikam" and snap.tenant_id is None
        assert [d.id for d in snap.domains or ()][1] == "fabrikam-x9y8.call2teams.com"

    def test_missing_files_are_not_exported_not_empty(self) -> None:
        """A missing file is reported as not exported and kept as None, never as an empty list."""
        snap = load_tenant_dir(PARTIAL)
        assert snap.not_exported == ("voice_routes.json", "group_policy_assignments.json", "tenant_defaults.json",
                                     "domains.json")
        assert snap.voice_routes is None and snap.domains is None
        assert snap.voice_routing_policies is not None


class TestQuirks:
    @pytest.mark.parametrize(
        ("target", "quirk"),
        [
            ("voice_routing_policies.json", "utf16le_bom_policies.json"),
            ("voice_routing_policies.json", "utf8_bom_policies.json"),
            ("voice_routing_policies.json", "ps51_value_count_policies.json"),
        ],
        ids=["utf16-le-bom", "utf8-bom", "ps51-value-count-wrapper"],
    )
    def test_encodings_and_wrappers_read_like_the_plain_export(self, tmp_path: Path, target: str, quirk: str) -> None:
        """UTF-16 LE/UTF-8 with a BOM and the 5.1 {value, Count} wrapper give the same policies."""
        plain = load_tenant_dir(CONTOSO).voice_routing_policies
        quirky = load_tenant_dir(_tenant_with(tmp_path, target, quirk)).voice_routing_policies
        assert quirky == plain and plain is not None and len(plain) == 4

    def test_single_object_is_a_one_element_list(self, tmp_path: Path) -> None:
        """A cmdlet that returned one object is written without the array; it still reads as one item."""
        policies = load_tenant_dir(_tenant_with(tmp_path, "voice_routing_policies.json",
                                                "single_object_policy.json")).voice_routing_policies
        assert policies == (VoiceRoutingPolicy("Tag:Call2Teams-Policy", ("Call2Teams",), "Created by Call2Teams Sync"),)

    def test_single_object_pstn_usage(self, tmp_path: Path) -> None:
        """Get-CsOnlinePstnUsage's lone Global object yields its usage names."""
        snap = load_tenant_dir(_tenant_with(tmp_path, "pstn_usages.json", "single_object_pstn_usages.json"))
        assert snap.pstn_usages == ("Call2Teams", "UK-Local")

    def test_one_element_list_unrolled_to_a_string(self, tmp_path: Path) -> None:
        """A one-item OnlinePstnUsages written as a bare string is a one-element list."""
        snap = load_tenant_dir(_tenant_with(tmp_path, "voice_routing_policies.json",
                                            "single_string_usages_policy.json"))
        assert snap.voice_routing_policies == (VoiceRoutingPolicy("Tag:C2T", ("Call2Teams",)),)

    def test_mixed_property_casing(self, tmp_path: Path) -> None:
        """identity/onlinePstnUsages/OnlinePSTNUsages and userPrincipalName casings all read."""
        folder = _tenant_with(tmp_path, "voice_routing_policies.json", "mixed_casing_policies.json")
        shutil.copyfile(QUIRKS / "mixed_casing_users.json", folder / "users.json")
        snap = load_tenant_dir(folder)
        assert snap.voice_routing_policies == (
            VoiceRoutingPolicy("Tag:Call2Teams-Policy", ("Call2Teams",), "x"),
            VoiceRoutingPolicy("Tag:UK-Local", ("UK-Local",), ""),
        )
        assert snap.users == (
            TeamsUser("alice@contoso.com", "Alice", "Call2Teams-Policy", None),
            TeamsUser("bob@contoso.com", "", "C2T-Legacy", None),  # older module: the policy as an object
        )

    def test_depth_truncated_objects_that_kept_their_text_are_parsed(self, tmp_path: Path) -> None:
        """Rules cut to ``@{Name=...; Pattern=...}`` strings are read back field by field."""
        snap = load_tenant_dir(_tenant_with(tmp_path, "dial_plans.json", "depth_hashtable_dial_plans.json"))
        assert snap.dial_plans == (DialPlan("Global", "DefaultTenantDialPlan", (
            NormalizationRule("C2T-Extensions", "^(\\d{4})$", "+44207946$1", "Call2Teams internal extensions"),
            NormalizationRule("UK-National", "^0(\\d{10})$", "+44$1", ""),
        ), ""),)

    @pytest.mark.parametrize(
        ("target", "quirk", "field"),
        [
            ("dial_plans.json", "depth_truncated_dial_plans.json", "NormalizationRules"),
            ("voice_routing_policies.json", "depth_truncated_policies.json", "OnlinePstnUsages"),
        ],
    )
    def test_depth_truncated_type_names_fail_naming_file_and_field(
        self, tmp_path: Path, target: str, quirk: str, field: str
    ) -> None:
        """A value cut to a .NET type name cannot be read: the error names the file, field and the fix."""
        folder = _tenant_with(tmp_path, target, quirk)
        with pytest.raises(InputError) as caught:
            load_tenant_dir(folder)
        message = caught.value.one_line()
        assert str(folder / target) in message and field in message
        assert "depth" in message and "-Depth 10" in message

    @pytest.mark.parametrize(
        "text", ["Microsoft.Rtc.Management.WritableConfig.Policy.Voice.NormalizationRule",
                 "System.Collections.Generic.List`1[System.String]", "System.Object[]",
                 "Deserialized.Microsoft.Rtc.Management.WritableConfig.Policy.Voice.NormalizationRule"])
    def test_type_names_are_recognised(self, text: str) -> None:
        assert is_truncated(text)

    @pytest.mark.parametrize("text", ["Call2Teams", "sbc.contoso.com", "Tag:UK-Local", "Microsoft Teams"])
    def test_ordinary_text_is_not_truncation(self, text: str) -> None:
        assert not is_truncated(text)

    def test_utf16_without_bom_and_ansi(self) -> None:
        """BOM-less UTF-16 and Windows-1252 text decode too."""
        assert decode_export('[{"a": 1}]'.encode("utf-16-le"), where="f") == '[{"a": 1}]'
        ansi = '[{"Description": "Caf\u00e9"}]'
        assert decode_export(ansi.encode("cp1252"), where="f") == ansi


class TestBadInput:
    @pytest.mark.parametrize(
        ("quirk", "expected"),
        [
            ("not_json.json", "is not JSON"),
            ("empty.json", "is empty"),
            ("routes_not_policies.json", "is not Get-CsOnlineVoiceRoutingPolicy output"),
        ],
    )
    def test_one_clear_error_naming_the_file(self, tmp_path: Path, quirk: str, expected: str) -> None:
        """Bad files fail with one line that names the file and says what is wrong."""
        folder = _tenant_with(tmp_path, "voice_routing_policies.json", quirk)
        with pytest.raises(InputError) as caught:
            load_tenant_dir(folder)
        line = caught.value.one_line()
        assert line.startswith(str(folder / "voice_routing_policies.json") + ":")
        assert expected in line and "\n" not in line

    def test_wrong_cmdlet_says_what_it_looks_like(self, tmp_path: Path) -> None:
        """Routes saved as policies: the error names the cmdlet whose output it looks like."""
        folder = _tenant_with(tmp_path, "voice_routing_policies.json", "routes_not_policies.json")
        with pytest.raises(InputError, match="looks like Get-CsOnlineVoiceRoute output"):
            load_tenant_dir(folder)

    def test_users_file_holding_policies(self, tmp_path: Path) -> None:
        folder = _tenant_with(tmp_path, "users.json", "mixed_casing_policies.json")
        with pytest.raises(InputError, match="users.json: is not Get-CsOnlineUser output: an object lacks "
                                             "UserPrincipalName"):
            load_tenant_dir(folder)

    @pytest.mark.parametrize(("content", "expected"), [(b"42", "holds a JSON number"), (b"null", "holds a JSON null"),
                                                       (b"[1, 2]", "item 1 is a JSON number")])
    def test_json_that_is_not_objects(self, content: bytes, expected: str) -> None:
        with pytest.raises(InputError, match=expected):
            parse_export(content, where="x.json")

    def test_missing_folder_and_empty_folder(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="is not a folder"):
            load_tenant_dir(tmp_path / "nope")
        with pytest.raises(InputError, match="holds none of the export files"):
            load_tenant_dir(tmp_path)
