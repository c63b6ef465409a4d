"""Where Connect answers differently from its own OpenAPI 21.0 spec: patches applied to the extract at load time.

Each patch names the schema and field, and follows what Connect actually answers and what connect-openapi-client,
connect-eaas-core and m365move/connect read. The extract itself (``specs/connect-openapi-21.0-subset.json``)
stays verbatim, so a refreshed spec shows what changed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Json = dict[str, Any]
Patch = Callable[[Json], None]


def _schema(spec: Json, name: str) -> Json:
    found: Json = spec["components"]["schemas"][name]
    return found


def _not_required(name: str, *fields: str) -> Patch:
    def patch(spec: Json) -> None:
        schema = _schema(spec, name)
        schema["required"] = [f for f in schema.get("required", []) if f not in fields]
    patch.__name__ = f"not_required_{name}"
    return patch


def _asset_items_quantity_is_a_string(spec: Json) -> None:
    # dp.Subscription.items[].quantity: the spec says number, but the same asset embedded in a request
    # (GET /requests/{id} asset.items[].quantity) is a string in the spec itself, Connect answers strings
    # ("quantity": "10"), and m365move/connect/payloads.py parses them with int(str(...)).
    _schema(spec, "dp.Subscription")["properties"]["items"]["items"]["properties"]["quantity"] = {"type": "string"}


def _asset_params_are_objects(spec: Json) -> None:
    # dp.Subscription.params: the spec nests an array in the array (params[][]); Connect answers a flat list of
    # parameter objects, which connect-eaas-core handlers and m365move/connect/payloads.param_value read.
    params = _schema(spec, "dp.Subscription")["properties"]["params"]
    if params.get("items", {}).get("type") == "array":
        params["items"] = params["items"]["items"]


def _tier_level_is_an_integer(spec: Json) -> None:
    # dp.TierConfiguration(.Detail).tier_level: the spec says type string with enum [1, 2], which no value
    # satisfies; Connect answers the integer 1 or 2 (m365move/connect/tier_config_checks compares it as an int).
    for name in ("dp.TierConfiguration", "dp.TierConfigurationDetail"):
        _schema(spec, name)["properties"]["tier_level"] = {"type": "integer", "enum": [1, 2]}


def _tier_config_request_params_are_a_list(spec: Json) -> None:
    # dp.TierConfigRequestRead.params: the spec says a read-only string; Connect answers a list of parameter
    # objects (id, value, value_error, …), the shape tier configs use, which tier_config_checks reads.
    params = _schema(spec, "dp.TierConfiguration")["properties"]["params"]
    _schema(spec, "dp.TierConfigRequestRead")["properties"]["params"] = {"type": "array", "items": params["items"]}


def _purchase_sends_items_and_tiers(spec: Json) -> None:
    # dp.AssetPurchaseRequest.asset.items and .tiers are marked readOnly, which would forbid them in the very body
    # that creates the asset; the spec's own "purchase" example of POST /requests sends both, as Connect requires.
    def writable(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("readOnly", None)
            for value in node.values():
                writable(value)
    asset = _schema(spec, "dp.AssetPurchaseRequest")["properties"]["asset"]["properties"]
    writable(asset["items"])
    writable(asset["tiers"])


def _request_kinds_are_mapped(spec: Json) -> None:
    # POST /requests: `oneOf` with `discriminator: {propertyName: type}` but no mapping, so a validator looks for
    # schemas named "purchase", "cancel", …; the mapping below is what the three schemas' `type` enums say.
    schema = spec["paths"]["/requests"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    prefix = "#/components/schemas/"
    schema["discriminator"]["mapping"] = {
        "purchase": prefix + "dp.AssetPurchaseRequest",
        "change": prefix + "dp.AssetChangeRequest",
        **{kind: prefix + "dp.AssetSuspendResumeCancelRequest" for kind in ("suspend", "resume", "cancel")},
    }


def _tier_config_request_update_is_partial(spec: Json) -> None:
    # PUT /tier/config-requests/{id} reuses dp.TierConfigRequestCreate, whose `required` (configuration, …) is for
    # creating one; Connect's update takes only what changes (`{"params": [...]}`, as connect-eaas-core
    # extensions and m365move/connect send), so the update body gets the same schema without `required`.
    body = spec["paths"]["/tier/config-requests/{id}"]["put"]["requestBody"]["content"]["application/json"]
    schema = body["schema"]
    update = copy.deepcopy(_schema(spec, schema["$ref"].rsplit("/", 1)[1]) if "$ref" in schema else schema)
    update.pop("required", None)
    body["schema"] = update


def _tier_config_request_update_answers_the_request(spec: Json) -> None:
    # PUT /tier/config-requests/{id} answers 200 with dp.TierConfigRequestCreate, whose params are writeOnly, so no
    # answer could show them; Connect answers the updated request as GET does (dp.TierConfigRequestRead).
    answer = spec["paths"]["/tier/config-requests/{id}"]["put"]["responses"]["200"]["content"]["application/json"]
    answer["schema"] = {"$ref": "#/components/schemas/dp.TierConfigRequestRead"}


def _lists_refuse_bad_rql(spec: Json) -> None:
    # Every list operation answers 400 {"error_code", "errors"} when its RQL uses a filter, lookup or ordering the
    # operation does not declare ("Bad ordering filter: id." for ordering(id) on /assets): Connect's RQL layer
    # (django-rql) refuses before the view runs, so the spec's per-operation responses never list it.
    error = {"type": "object", "required": ["error_code", "errors"],
             "properties": {"error_code": {"type": "string"}, "errors": {"type": "array", "items": {"type": "string"}}}}
    for operations in spec["paths"].values():
        listing = operations.get("get")
        if listing and any(p.get("$ref", "").endswith(".limit") or p.get("name") == "limit"
                           for p in listing.get("parameters", [])):
            listing.setdefault("responses", {}).setdefault(
                "400", {"description": "RQL refused", "content": {"application/json": {"schema": error}}})


def _transitions_refuse_a_moved_request(spec: Json) -> None:
    # POST /requests/{id}/approve|fail|inquire|pend (and the tier-config ones) answer 400 {"error_code", "errors"}
    # when the request is no longer in a status that allows the action (a purchase failed by another runner
    # instance, then failed again): Connect refuses the transition, and m365move/connect/requests_api reads that 400
    # as "the request moved on". The spec lists only the success answer.
    error = {"type": "object", "required": ["error_code", "errors"],
             "properties": {"error_code": {"type": "string"}, "errors": {"type": "array", "items": {"type": "string"}}}}
    for path, operations in spec["paths"].items():
        if path.startswith(("/requests/{id}/", "/tier/config-requests/{id}/")) and "post" in operations:
            operations["post"].setdefault("responses", {}).setdefault(
                "400", {"description": "transition refused", "content": {"application/json": {"schema": error}}})


def _schedule_changes_may_be_refused(spec: Json) -> None:
    # PUT …/schedules/{id} and POST …/schedules/{id}/trigger answer 403 {"error_code", "errors"} to an API key whose
    # role may not change the environment's schedules (Connect's permission check runs before the view); the spec
    # lists only the success answer. m365move/connect/sweep_schedule goes on without them.
    error = {"type": "object", "required": ["error_code", "errors"],
             "properties": {"error_code": {"type": "string"}, "errors": {"type": "array", "items": {"type": "string"}}}}
    schedule = "/devops/services/{extension_id}/environments/{environment_id}/schedules/{id}"
    for path, method in ((schedule, "put"), (f"{schedule}/trigger", "post")):
        operation = spec["paths"].get(path, {}).get(method)
        if operation is not None:
            operation.setdefault("responses", {}).setdefault(
                "403", {"description": "not permitted", "content": {"application/json": {"schema": error}}})


# Patches of the objects Connect answers.
SCHEMA_DEVIATIONS: list[Patch] = [
    _asset_items_quantity_is_a_string,
    _asset_params_are_objects,
    _tier_level_is_an_integer,
    _tier_config_request_params_are_a_list,
    # The spec's `required` lists come from the write serializers: these fields are required of a body that
    # creates the object, but Connect omits them on read when unset, and no client we run reads them.
    # dp.TierConfigRequestRead: parent_configuration (none for a tier-1 setup), assignee (unassigned), template
    # (only once approved; the sandbox sets it then), sli.
    _not_required("dp.TierConfigRequestRead", "parent_configuration", "assignee", "template", "sli"),
    # dp.ProductVersion: external_id, purchase_model (product creation fields).
    _not_required("dp.ProductVersion", "external_id", "purchase_model"),
    # dp.UIItem: external_id, parent, replacement, end_of_sale_notes, group (item creation fields; the sandbox
    # serves the ones the extension reads: id, mpn, display_name, period, commitment, type, status, unit).
    _not_required("dp.UIItem", "external_id", "parent", "replacement", "end_of_sale_notes", "group"),
    # dp.Listing: offer, pricelist, alt_pricelist_1, alt_pricelist_2 (listing-request fields; pricing is not ours).
    _not_required("dp.Listing", "offer", "pricelist", "alt_pricelist_1", "alt_pricelist_2"),
]
# Patches of what operations take and answer.
OPERATION_DEVIATIONS: list[Patch] = [
    _lists_refuse_bad_rql,
    _transitions_refuse_a_moved_request,
    _schedule_changes_may_be_refused,
    _purchase_sends_items_and_tiers,
    _request_kinds_are_mapped,
    _tier_config_request_update_is_partial,
    _tier_config_request_update_answers_the_request,
]
DEVIATIONS: list[Patch] = [*SCHEMA_DEVIATIONS, *OPERATION_DEVIATIONS]


def apply_deviations(spec: Json, patches: list[Patch] | None = None) -> Json:
    """A copy of ``spec`` with ``patches`` (default: all of ``DEVIATIONS``) applied."""
    patched = copy.deepcopy(spec)
    for patch in DEVIATIONS if patches is None else patches:
        patch(patched)
    return patched
