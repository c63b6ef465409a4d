"""Partner Center's view of a runbook's planned sources, asked before the plan is made.

The runbooks plan as `m365move plan` and `migrate` do: with the Partner Center app's credentials in the environment
(``PARTNER_CENTER_TENANT_ID``, ``PARTNER_CENTER_CLIENT_ID``, ``PARTNER_CENTER_CLIENT_SECRET``; never parameters,
since papermill writes parameters into the executed notebook), every selected source is looked up first, so a
legacy subscription Microsoft already migrated (or is migrating) is skipped or blocked instead of ordered a second
time. Without them the inputs are unchanged and the plan's findings say, once, that it cannot see Microsoft-led
migrations. A resume asks again: what Microsoft did since the earlier run counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from m365move.domain.planner import source_subscriptions
from m365move.partnercenter.environment_client import client_from_environment
from m365move.partnercenter.migration_facts import read_partner_center_view
from m365move.runbooks.plan_inputs import PlanInputs


def with_partner_center_view(inputs: PlanInputs, environ: Mapping[str, str], partner_center_url: str | None,
                             partner_center_login_url: str | None) -> PlanInputs:
    """``inputs`` whose estate carries Partner Center's answers for the selected sources; unchanged without
    credentials. A failed read raises: ordering blind is the double billing this guards against."""
    client = client_from_environment(environ, partner_center_url, partner_center_login_url)
    if client is None:
        return inputs
    with client:
        view = read_partner_center_view(client, inputs.estate, source_subscriptions(inputs.estate, inputs.selection))
    return replace(inputs, estate=replace(inputs.estate, partner_center=view))
