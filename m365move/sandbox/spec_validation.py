"""Requests and responses of the sandbox's Commerce and Connect routes checked against the published specs.

A real OpenAPI validator (openapi-core) reads the specs the sandbox ships in ``specs/``: Commerce SimpleAPI 1.15
as published, and an extract of Connect OpenAPI 21.0 (``tests/sandbox/extract_connect_openapi.py``) with the
documented corrections of ``connect_spec_deviations``. What each check means:

- **requests** (always): an unknown path or method, a missing required parameter or field, a value of the wrong
  type, one outside an enum, a ``readOnly`` field sent, and for Commerce a query parameter or body field its
  spec does not declare: the platform refuses the request before any route runs.
  Security requirements are left to the routes, which answer 401 as the platforms do.
- **responses** (test mode, ``response_checks``): the answer must match the operation's schema for its status,
  with no ``writeOnly`` field. Commerce objects may carry only the fields the schema names, at any depth
  (``unknown_fields``: the spec sets no ``additionalProperties``, but Commerce serialises its own models, so a
  field outside the schema is a sandbox invention). Connect objects may carry more (its 2020 spec omits fields
  Connect answers; the top-level ones are listed in the Connect conformance test).

openapi-core costs a few milliseconds per request, so each API's document is parsed once per process and
shared by every sandbox.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound, ServerNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import MissingRequiredParameter, SecurityValidationError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from m365move.sandbox.connect_spec_deviations import apply_deviations
from m365move.sandbox.reused_schema_validators import request_casters, request_validators

SPECS = Path(__file__).parent / "specs"
COMMERCE_SPEC = SPECS / "commerce-simpleapi-1.15.yaml"
CONNECT_SPEC = SPECS / "connect-openapi-21.0-subset.json"
CONNECT_PREFIX = "/public/v1"
# Allowed request shapes remembered per API (forgotten all at once beyond this many).
_MAX_REMEMBERED = 20_000
# The host the specs are matched against; only the path matters (servers are relative or rewritten).
_HOST = "http://sandbox.invalid"

ApiName = Literal["commerce", "connect"]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request as the sandbox received it (and, once answered, its response)."""

    method: str
    path: str
    query_string: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes = b""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True, slots=True)
class RequestProblem:
    """Why a request breaks the spec, with the status the platform answers it with."""

    status: int
    message: str


class _OpenApiRequest:
    """openapi-core's request protocol over an ``Exchange``."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(exchange.query_string, keep_blank_values=True)),
            header=Headers(list(exchange.headers)),
        )

    @property
    def host_url(self) -> str:
        return _HOST

    @property
    def path(self) -> str:
        return self._exchange.path

    @property
    def method(self) -> str:
        return self._exchange.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._exchange.body or None

    @property
    def content_type(self) -> str:
        return (self._exchange.header("content-type") or "application/json").lower()


class _OpenApiResponse:
    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self.headers = Headers(list(exchange.response_headers))

    @property
    def status_code(self) -> int:
        assert self._exchange.status is not None
        return self._exchange.status

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").lower()

    @property
    def data(self) -> bytes | None:
        return self._exchange.response_body or None


class ApiSpec:
    """One API's spec: ``request_problem`` for the sandbox's gate, ``response_problems`` for test mode."""

    def __init__(self, name: ApiName, document: dict[str, Any], *, forbid_unknown_response_fields: bool) -> None:
        self.name = name
        self.title = f"{document['info']['title']} {document['info']['version']}"
        self._document = document
        self._openapi = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))
        self._forbid_unknown = forbid_unknown_response_fields
        self._prefix = CONNECT_PREFIX if name == "connect" else ""
        # Literal paths first, so /orders/estimate is not taken for /orders/{id}.
        ordered = sorted(document["paths"], key=lambda path: (path.count("{"), path))
        self._templates = [(_template_pattern(self._prefix + path), path) for path in ordered]
        self._operations: dict[tuple[str, str, frozenset[str]], OpenAPI] = {}
        self._plain: dict[tuple[str, str], frozenset[str]] = {}
        self._allowed: set[Hashable] = set()
        self._lock = threading.Lock()
        # Requests are checked against per-operation documents (``_operation``) sharing validators built once.
        validators = request_validators()
        self._request_config = Config(spec_validator_cls=None, schema_validators_factory=validators,
                                      schema_casters_factory=request_casters(validators))

    def endpoint(self, exchange: Exchange) -> str:
        """``"GET /orders/{id}"``: the spec's operation the request is for (its raw path when there is none)."""
        return f"{exchange.method} {self._template(exchange.path) or exchange.path}"

    def _template(self, path: str) -> str | None:
        return next((template for pattern, template in self._templates if pattern.fullmatch(path)), None)

    def request_problem(self, exchange: Exchange) -> RequestProblem | None:
        """Why the platform would refuse ``exchange`` (every reason found), or None when the spec allows it."""
        template = self._template(exchange.path)
        if template is None:
            return RequestProblem(404, f"{exchange.method} {exchange.path}: no such resource in {self.title}")
        if exchange.method.lower() not in self._document["paths"][template]:
            return RequestProblem(405, f"{exchange.method} is not an operation of {exchange.path} in {self.title}")
        if exchange.body:
            try:
                exchange.body.decode("utf-8")
            except UnicodeDecodeError as undecodable:  # JSON is UTF-8; the gateways refuse other bytes as malformed
                return RequestProblem(400, f"{exchange.method} {exchange.path}: the body is not UTF-8 "
                                           f"(byte {undecodable.start})")
        request = _OpenApiRequest(exchange)
        present = frozenset(request.parameters.query) | frozenset(k.lower() for k, _ in exchange.headers)
        shape = self._shape(template, exchange, present)
        if shape is not None and shape in self._allowed:
            return None
        try:
            errors = list(self._operation(template, exchange.method.lower(), present).iter_request_errors(request))
        except RecursionError:
            # Python's JSON decoder gives up on bodies nested thousands deep; the platforms' gateways refuse
            # such bodies as malformed, never with a server error.
            return RequestProblem(400, f"{exchange.method} {exchange.path}: the body is nested too deeply to parse")
        messages: list[str] = []
        for error in errors:
            if isinstance(error, (PathNotFound, ServerNotFound)):
                return RequestProblem(404, f"{exchange.method} {exchange.path}: no such resource in {self.title}")
            if isinstance(error, OperationNotFound):
                return RequestProblem(405, f"{exchange.method} is not an operation of {exchange.path} in {self.title}")
            if isinstance(error, SecurityValidationError) or _is_credential_header(error):
                continue  # the route checks credentials and answers 401 itself, as the gateways do
            messages.extend(describe(error))
        if self.name == "commerce":
            messages.extend(self._undeclared(template, exchange))
        if messages:
            return RequestProblem(400, "; ".join(messages))
        if shape is not None:
            with self._lock:
                if len(self._allowed) >= _MAX_REMEMBERED:
                    self._allowed.clear()
                self._allowed.add(shape)
        return None

    def _undeclared(self, template: str, exchange: Exchange) -> list[str]:
        """Query parameters and body fields the operation does not declare (Commerce: its spec lists them all).

        JSON Schema lets undeclared fields through, but SimpleAPI binds requests to its own models: a misspelt
        ``migrationProgam`` or ``custmerId`` filter is not what the caller meant and must not pass unnoticed."""
        method = exchange.method.lower()
        path_item = self._document["paths"][template]
        parameters = [_resolve(self._document, p) for p in [*path_item.get("parameters", []),
                                                             *path_item[method].get("parameters", [])]]
        declared = {str(p["name"]) for p in parameters if p.get("in") == "query"}
        problems = [f"query parameter {name!r} is not declared for {exchange.method} {template}"
                    for name in dict.fromkeys(n for n, _ in parse_qsl(exchange.query_string, keep_blank_values=True))
                    if name not in declared]
        content = _resolve(self._document, path_item[method].get("requestBody", {})).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if exchange.body and schema is not None:
            try:
                body = json.loads(exchange.body)
            except (ValueError, RecursionError):
                return problems  # openapi-core has said why the body is unreadable
            problems += [f"body {problem}" for problem in unknown_fields(self._document, schema, body)]
        return problems

    def _shape(self, template: str, exchange: Exchange, present: frozenset[str]) -> Hashable | None:
        """What of a body-less request the spec can judge: the values of parameters whose schema is not a plain
        string, the names of the others (any text is a valid plain string). Requests of one shape are all
        allowed or all refused, so an allowed shape is remembered (polling the same order, paging a list)."""
        if exchange.body:
            return None
        plain = self._plain_parameters(template, exchange.method.lower())
        pairs = parse_qsl(exchange.query_string, keep_blank_values=True)
        query = tuple(sorted((name, "" if name in plain else value) for name, value in pairs))
        path_values = tuple("" for _ in range(template.count("{"))) if "{path}" in plain else (exchange.path,)
        return (template, exchange.method, query, present, path_values)

    def _plain_parameters(self, template: str, method: str) -> frozenset[str]:
        """Query parameters (and ``{path}`` when all path parameters are) typed as unconstrained strings."""
        key = (template, method)
        found = self._plain.get(key)
        if found is None:
            path_item = self._document["paths"][template]
            parameters = [_resolve(self._document, p) for p in [*path_item.get("parameters", []),
                                                                 *path_item[method].get("parameters", [])]]
            names = {str(p["name"]) for p in parameters if p.get("in") == "query" and _plain_string(self._document, p)}
            path = [p for p in parameters if p.get("in") == "path"]
            if all(_plain_string(self._document, p) for p in path):
                names.add("{path}")
            found = frozenset(names)
            self._plain[key] = found
        return found

    def _operation(self, template: str, method: str, present: frozenset[str]) -> OpenAPI:
        """A document with only this operation and, of its optional parameters, the ones the request has.

        openapi-core works through every declared parameter of an operation, given or not, at a few milliseconds
        each (Connect's ``GET /assets`` declares dozens of filters); a parameter a request leaves out and the spec
        does not require cannot be wrong, so it is left out of the document the request is checked against. The
        documents are kept per (operation, parameters given): clients send the same few shapes again and again."""
        key = (template, method, present)
        found = self._operations.get(key)
        if found is None:
            path_item = self._document["paths"][template]
            operation = dict(path_item[method])

            def wanted(parameter: Mapping[str, Any]) -> bool:
                resolved = _resolve(self._document, parameter)
                name = str(resolved.get("name", ""))
                if resolved.get("in") == "header":
                    name = name.lower()
                return bool(resolved.get("required")) or resolved.get("in") == "path" or name in present

            operation["parameters"] = [p for p in operation.get("parameters", []) if wanted(p)]
            item = {"parameters": [p for p in path_item.get("parameters", []) if wanted(p)], method: operation}
            document = {**self._document, "paths": {template: item}}
            found = OpenAPI.from_dict(document, config=self._request_config)
            with self._lock:
                self._operations[key] = found
        return found

    def response_problems(self, exchange: Exchange) -> list[str]:
        """What in ``exchange``'s response breaks the operation's schema (empty: it conforms)."""
        assert exchange.status is not None
        if self.name == "commerce" and exchange.status >= 400:
            # SimpleAPI declares only "default" responses, the successful body; errors have no schema.
            return []
        problems: list[str] = []
        request, response = _OpenApiRequest(exchange), _OpenApiResponse(exchange)
        for error in self._openapi.iter_response_errors(request, response):
            if isinstance(error, ResponseNotFound):
                problems.append(f"status {exchange.status} is not a response {self.title} declares for this operation")
            else:
                problems.extend(describe(error))
        if self._forbid_unknown and not problems and exchange.response_body:
            schema = self._response_schema(exchange)
            if schema is not None:
                problems.extend(unknown_fields(self._document, schema, json.loads(exchange.response_body)))
        return problems

    def _response_schema(self, exchange: Exchange) -> dict[str, Any] | None:
        assert exchange.status is not None
        template = self._template(exchange.path)
        operation = self._document["paths"][template].get(exchange.method.lower()) if template else None
        if operation is None:
            return None
        responses = operation.get("responses", {})
        answer = responses.get(str(exchange.status)) or responses.get("default") or {}
        schema: dict[str, Any] | None = answer.get("content", {}).get("application/json", {}).get("schema")
        return schema


def unknown_fields(document: Mapping[str, Any], schema: Mapping[str, Any], instance: Any, where: str = "") -> list[str]:
    """Fields of ``instance`` that ``schema`` does not name, at any depth (``allOf`` parts together).

    The specs set no ``additionalProperties``, so JSON Schema lets anything through; the platform serialises
    its own models and never answers a field its schema lacks, so such a field is a sandbox invention.
    A schema with ``additionalProperties`` (a dictionary such as ``attributes``) allows any key."""
    schema = _resolve(document, schema)
    if isinstance(instance, list):
        items = schema.get("items")
        if not isinstance(items, Mapping):
            return []
        return [p for i, value in enumerate(instance) for p in unknown_fields(document, items, value, f"{where}/{i}")]
    if not isinstance(instance, dict):
        return []
    properties: dict[str, Any] = {}
    open_ended = False
    for part in [schema, *(_resolve(document, p) for p in schema.get("allOf", []))]:
        properties.update(part.get("properties", {}))
        open_ended = open_ended or "additionalProperties" in part or any(k in part for k in ("oneOf", "anyOf"))
    if open_ended:
        return []
    problems = [f"{where or '<root>'}: field {key!r} is not in the schema" for key in instance if key not in properties]
    for key, value in instance.items():
        if key in properties:
            problems.extend(unknown_fields(document, properties[key], value, f"{where}/{key}"))
    return problems


def _resolve(document: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    return schema


def _plain_string(document: Mapping[str, Any], parameter: Mapping[str, Any]) -> bool:
    schema = _resolve(document, parameter.get("schema", {}))
    return schema.get("type") == "string" and not set(schema) & {"enum", "format", "pattern", "minLength", "maxLength"}


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)))


def _is_credential_header(error: BaseException) -> bool:
    # SimpleAPI declares X-Subscription-Key as a required header; its gateway answers a missing key with 401.
    return (isinstance(error, MissingRequiredParameter) and error.location == "header"
            and error.name.lower() == "x-subscription-key")


def describe(error: BaseException) -> list[str]:
    """Readable lines for an openapi-core error: each schema error with the place it happened."""
    cause = error.__cause__ or error
    schema_errors = list(getattr(cause, "schema_errors", []) or [])
    head = str(error).split(":", 1)[0] if schema_errors else str(error)
    if isinstance(cause, BaseException) and cause is not error and not schema_errors:
        return [f"{head}: {cause}"]
    if not schema_errors:
        return [head]
    lines = []
    for schema_error in schema_errors:
        where = "/".join(str(p) for p in getattr(schema_error, "absolute_path", [])) or "<root>"
        lines.append(f"{head} at {where}: {getattr(schema_error, 'message', schema_error)}")
    return lines


@lru_cache(maxsize=1)
def commerce_spec() -> ApiSpec:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document: dict[str, Any] = yaml.load(COMMERCE_SPEC.read_text(encoding="utf-8"), Loader=loader)
    return ApiSpec("commerce", document, forbid_unknown_response_fields=True)


@lru_cache(maxsize=1)
def connect_spec() -> ApiSpec:
    document: dict[str, Any] = json.loads(CONNECT_SPEC.read_text(encoding="utf-8"))
    return ApiSpec("connect", apply_deviations(document), forbid_unknown_response_fields=False)


@lru_cache(maxsize=1)
def _commerce_roots() -> frozenset[str]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(COMMERCE_SPEC.read_text(encoding="utf-8"), Loader=loader)
    return frozenset(path.split("/")[1] for path in document["paths"])


def api_of(path: str) -> ApiName | None:
    """Which specified API a request path belongs to: Connect under /public/v1, Commerce for the first path
    segments SimpleAPI defines (``/orders``, ``/plans``, …); None for the others (Partner Center, Graph, admin)."""
    if path == CONNECT_PREFIX or path.startswith(CONNECT_PREFIX + "/"):
        return "connect"
    first = path.split("/", 2)[1] if path.startswith("/") else ""
    return "commerce" if first in _commerce_roots() else None


def spec_of(api: ApiName) -> ApiSpec:
    return commerce_spec() if api == "commerce" else connect_spec()


def exchange_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
