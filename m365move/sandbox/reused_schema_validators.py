"""openapi-core's schema validators for the sandbox's request checks, built once per schema, not once per request.

For every schema of every request it checks (the body, each parameter, and again when casting a parameter),
openapi-core builds a new jsonschema validator and deep-copies the format checker first (so that format validators
added for one check cannot leak into another). That rebuilding was about a fifth of the sandbox's CPU during a
migration. The sandbox adds no format validators and checks the same few schemas again and again, so the validator
of a schema is built once, by openapi-core itself, and reused: the same validator classes (OpenAPI 3.0 write
semantics: ``readOnly`` refused in requests), the same formats, the same errors. A jsonschema validator keeps no
state between validations, and the shared format checker is only read.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

from jsonschema._format import FormatChecker
from jsonschema_path import SchemaPath
from openapi_core.casting.schemas import oas30_types_caster
from openapi_core.casting.schemas.factories import SchemaCastersFactory
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from openapi_core.validation.schemas.validators import SchemaValidator
from openapi_schema_validator import OAS30WriteValidator


class ReusedSchemaValidators(SchemaValidatorsFactory):
    """A ``SchemaValidatorsFactory`` that hands out the validator it built before for the same schema."""

    def __init__(self, schema_validator_cls: Any) -> None:
        super().__init__(schema_validator_cls)
        # Keyed by the schema's document (its accessor) and place in it; the schema is kept with its validator so
        # the accessor stays alive and its id cannot be reused by another document.
        self._built: dict[Hashable, tuple[SchemaPath, SchemaValidator]] = {}
        self._lock = threading.Lock()

    def get_format_checker(self, format_validators: Any = None, extra_format_validators: Any = None) -> FormatChecker:
        if format_validators is None and extra_format_validators is None:
            return self.format_checker  # nothing is added to it, so it need not be copied
        return super().get_format_checker(format_validators, extra_format_validators)

    def create(
        self,
        spec: SchemaPath,
        schema: SchemaPath,
        format_validators: Any = None,
        extra_format_validators: Any = None,
        forbid_unspecified_additional_properties: bool = False,
        enforce_properties_required: bool = False,
    ) -> SchemaValidator:
        if format_validators is not None or extra_format_validators is not None:
            return super().create(spec, schema, format_validators, extra_format_validators,
                                  forbid_unspecified_additional_properties, enforce_properties_required)
        key = (id(schema.accessor), schema.parts, forbid_unspecified_additional_properties, enforce_properties_required)
        found = self._built.get(key)
        if found is not None and found[0].accessor is schema.accessor:
            return found[1]
        validator = super().create(spec, schema, None, None, forbid_unspecified_additional_properties,
                                   enforce_properties_required)
        with self._lock:
            self._built[key] = (schema, validator)
        return validator


def request_validators() -> ReusedSchemaValidators:
    """The validators of request bodies and parameters (OpenAPI 3.0, as both sandboxed specs are)."""
    return ReusedSchemaValidators(OAS30WriteValidator)


def request_casters(validators: ReusedSchemaValidators) -> SchemaCastersFactory:
    """Parameter casting (query strings to the schema's types), which validates through the same validators."""
    return SchemaCastersFactory(validators, oas30_types_caster)
