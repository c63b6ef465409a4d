"""Request checks reuse each schema's validator and still judge every request on its own."""

from __future__ import annotations

import json

from m365move.sandbox.spec_validation import ApiSpec, Exchange, commerce_spec

ORDER = {"type": "sales", "customerId": "2000001", "poNumber": "PO-1", "planId": "6001",
         "products": [{"mpn": "CFQ7TTC0LH18:0001", "quantity": 2}]}
HEADERS = (("content-type", "application/json"), ("authorization", "Bearer token"), ("x-subscription-key", "key"))


def _problem(spec: ApiSpec, body: object) -> str | None:
    problem = spec.request_problem(Exchange("POST", "/orders", "", HEADERS, json.dumps(body).encode()))
    return None if problem is None else problem.message


def test_validators_are_built_once_and_keep_no_state_between_requests() -> None:
    spec = commerce_spec()
    assert _problem(spec, ORDER) is None
    built = dict(spec._request_config.schema_validators_factory._built)  # type: ignore[union-attr]
    assert built, "the first request built the operation's validators"

    assert "'yes' is not of type 'boolean'" in str(_problem(spec, {**ORDER, "autorenewal": "yes"}))
    assert "Tried to write read-only property" in str(_problem(spec, {**ORDER, "status": "completed"}))
    assert "'customerId' is a required property" in str(_problem(spec, {k: v for k, v in ORDER.items()
                                                                        if k != "customerId"}))
    assert _problem(spec, ORDER) is None
    assert spec._request_config.schema_validators_factory._built == built  # type: ignore[union-attr]
