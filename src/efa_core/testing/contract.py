"""A small OpenAPI 3.0 contract checker for connector and fake-server tests.

Load a spec file (YAML or JSON) and check that a request (method, path, query parameters)
and a response (status, content type, JSON body) match what the spec declares::

    from efa_core.testing.contract import OpenApiContract, find_spec_fixture

    contract = OpenApiContract.load(find_spec_fixture("fit-connect-routing-api.v2.0.0.yaml"))
    contract.check_request("GET", "/routes", {"leikaKey": "99123456760610", "ars": "16"})
    contract.check_response("GET", "/routes", 200, "application/json", body)

``check_*`` raise :class:`ContractViolation` (an :class:`AssertionError`, so pytest shows
it as a failed assertion) listing every problem; ``request_problems`` and
``response_problems`` return the problems instead.  :meth:`OpenApiContract.check_exchange`
takes an :class:`httpx.Response` (with its request) in one call.

What is checked:

* the path matches one of the spec's path templates (after the servers' base path, if the
  path carries it) and the method is declared for it; path parameters match their schema;
* query parameters: required ones are present, every one sent is declared (``strict``,
  the default: an undeclared parameter is drift), each value converts to its schema type
  (``integer``, ``number``, ``boolean``, ``array`` with ``explode``) and validates;
* responses: the status is declared (exactly, as ``4XX``-style range, or ``default``), the
  content type is one the spec lists for it (parameters such as ``charset`` ignored) and
  the JSON body validates against its schema.

The OpenAPI schema dialect is adapted to JSON Schema draft 4 (which has OpenAPI 3.0's
boolean ``exclusiveMinimum``): ``nullable: true`` becomes a ``null`` type (and ``None`` in
an ``enum``); ``$ref`` into ``#/components/...`` resolves within the spec;
``readOnly``/``writeOnly``/``example``/``xml`` and friends are dropped.  Formats are
checked where :mod:`jsonschema` can without extra packages (``uuid``, ``email``, ...).

Needs ``jsonschema`` (and ``PyYAML`` for YAML specs): ``pip install 'efa-core[testing]'``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FIXTURES_ENV_VAR",
    "ContractViolation",
    "OpenApiContract",
    "find_fixtures_dir",
    "find_spec_fixture",
]

#: Environment variable that points at the spec fixtures folder (overrides the search).
FIXTURES_ENV_VAR = "EFA_SPEC_FIXTURES"

_DROPPED_KEYWORDS = frozenset(
    {
        "nullable",
        "example",
        "examples",
        "readOnly",
        "writeOnly",
        "xml",
        "externalDocs",
        "deprecated",
        "discriminator",
    }
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class ContractViolation(AssertionError):
    """A request or response does not match the OpenAPI spec; :attr:`problems` lists why."""

    def __init__(self, what: str, problems: Sequence[str]) -> None:
        self.what = what
        self.problems = tuple(problems)
        super().__init__(f"{what} violates the spec:\n" + "\n".join(f"  - {p}" for p in problems))


def find_fixtures_dir(start: str | os.PathLike[str], *, relative: str = "shared/fixtures") -> Path:
    """Find the spec fixtures folder by walking up from *start* (a file or a folder).

    Each ancestor ``A`` of *start* is tried as ``A/<relative>``; the first folder that
    exists wins (for a test in ``/work/main/plugins/x/tests`` that finds
    ``/work/shared/fixtures``, next to the repository).  The environment variable
    :data:`FIXTURES_ENV_VAR` overrides the search.

    :raises FileNotFoundError: naming every place that was tried.
    """
    override = os.environ.get(FIXTURES_ENV_VAR)
    if override:
        path = Path(override)
        if path.is_dir():
            return path
        raise FileNotFoundError(f"{FIXTURES_ENV_VAR}={override!r} is not a folder")
    here = Path(start).resolve()
    if here.is_file():
        here = here.parent
    tried = []
    for ancestor in (here, *here.parents):
        candidate = ancestor / relative
        tried.append(str(candidate))
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"no {relative!r} folder found above {here} (tried {', '.join(tried)}); the OpenAPI "
        f"specs live next to the repository in ../{relative}, or set {FIXTURES_ENV_VAR}"
    )


def find_spec_fixture(name: str, start: str | os.PathLike[str] | None = None) -> Path:
    """Return the path of the spec fixture *name*, found with :func:`find_fixtures_dir`.

    *start* defaults to the current working directory.

    :raises FileNotFoundError: the folder or the file is missing.
    """
    folder = find_fixtures_dir(Path.cwd() if start is None else start)
    path = folder / name
    if not path.is_file():
        known = ", ".join(sorted(p.name for p in folder.iterdir())) or "none"
        raise FileNotFoundError(f"spec fixture {name!r} not found in {folder}; files: {known}")
    return path


def _adapt(schema: Any) -> Any:
    """Translate an OpenAPI 3.0 schema object into JSON Schema draft 4."""
    if isinstance(schema, list):
        return [_adapt(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED_KEYWORDS:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _adapt(sub) for name, sub in value.items()}
        else:
            out[key] = _adapt(value)
    if schema.get("nullable") is True and "$ref" not in schema:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class _Operation:
    def __init__(self, template: str, method: str, operation: Mapping[str, Any]) -> None:
        self.template = template
        self.method = method.upper()
        self.operation = operation
        names = re.findall(r"\{([^}/]+)\}", template)
        pattern = re.escape(template)
        for name in names:
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{_group(name)}>[^/]+)")
        self.regex = re.compile(pattern + r"\Z")
        self.path_names = {_group(name): name for name in names}


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


class OpenApiContract:
    """An OpenAPI 3.0 spec that checks requests and responses; see the module docs.

    :param spec: the parsed spec document.
    :param name: how messages name the spec (e.g. its file name).
    :param strict: reject query parameters the spec does not declare.
    """

    def __init__(self, spec: Mapping[str, Any], *, name: str = "spec", strict: bool = True) -> None:
        try:
            import jsonschema  # type: ignore[import-untyped,unused-ignore]
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "the contract checker needs jsonschema: pip install 'efa-core[testing]'"
            ) from exc
        version = str(spec.get("openapi", ""))
        if not version.startswith("3.0"):
            raise ValueError(f"{name}: only OpenAPI 3.0 specs are supported, got {version!r}")
        self.spec = spec
        self.name = name
        self.strict = strict
        self._jsonschema = jsonschema
        self._components = _adapt(spec.get("components", {}))
        self._format_checker = jsonschema.Draft4Validator.FORMAT_CHECKER
        self._base_paths = sorted(
            {
                path.rstrip("/")
                for server in spec.get("servers", [])
                if (path := _url_path(str(server.get("url", "")))).rstrip("/")
            },
            key=len,
            reverse=True,
        )
        self._operations: list[_Operation] = []
        for template, item in spec.get("paths", {}).items():
            for method in _METHODS:
                if method in item:
                    self._operations.append(_Operation(template, method, item[method]))
        # Literal templates before templated ones ("/v1/data" before "/v1/data/{ars}").
        self._operations.sort(key=lambda op: ("{" in op.template, -len(op.template)))

    def __repr__(self) -> str:
        return f"<OpenApiContract {self.name!r} operations={len(self._operations)}>"

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, strict: bool = True) -> OpenApiContract:
        """Read a spec from a ``.yaml``/``.yml`` or ``.json`` file."""
        file = Path(path)
        text = file.read_text(encoding="utf-8")
        if file.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise RuntimeError(
                    "reading a YAML spec needs PyYAML: pip install 'efa-core[testing]'"
                ) from exc
            spec = yaml.safe_load(text)
        else:
            spec = json.loads(text)
        if not isinstance(spec, dict):
            raise ValueError(f"{file}: not an OpenAPI document")
        return cls(spec, name=file.name, strict=strict)

    # -- lookup --------------------------------------------------------------------------

    def _resolve(self, obj: Any) -> Any:
        """Follow a ``$ref`` (parameters, responses) within the spec."""
        seen = 0
        while isinstance(obj, Mapping) and "$ref" in obj and seen < 20:
            ref = str(obj["$ref"])
            if not ref.startswith("#/"):
                raise ValueError(f"{self.name}: only local $ref are supported, got {ref!r}")
            target: Any = self.spec
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            obj = target
            seen += 1
        return obj

    def _strip_base(self, path: str) -> list[str]:
        candidates = [path]
        for base in self._base_paths:
            if path.startswith(base + "/"):
                candidates.append(path[len(base) :])
        return candidates

    def find(self, method: str, path: str) -> tuple[_Operation, dict[str, str]] | None:
        """Return the operation for *method* *path* and its path parameters, or ``None``."""
        for candidate in self._strip_base(path):
            for operation in self._operations:
                match = operation.regex.match(candidate)
                if match and operation.method == method.upper():
                    values = {operation.path_names[g]: v for g, v in match.groupdict().items()}
                    return operation, values
        return None

    def _operation_problems(
        self, method: str, path: str
    ) -> tuple[_Operation | None, dict[str, str], list[str]]:
        found = self.find(method, path)
        if found is not None:
            return found[0], found[1], []
        methods = sorted(
            {
                op.method
                for c in self._strip_base(path)
                for op in self._operations
                if op.regex.match(c)
            }
        )
        if methods:
            return None, {}, [f"{method.upper()} is not declared for {path} (only {methods})"]
        known = ", ".join(sorted({op.template for op in self._operations}))
        return None, {}, [f"path {path} matches no path of {self.name} ({known})"]

    # -- schemas -------------------------------------------------------------------------

    def schema_problems(self, schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
        """Validate *value* against an OpenAPI *schema*; return problems prefixed by *where*."""
        document = {"allOf": [_adapt(dict(schema))], "components": self._components}
        validator = self._jsonschema.Draft4Validator(document, format_checker=self._format_checker)
        problems = []
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
            location = "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
            )
            problems.append(f"{where}{location}: {error.message}")
        return problems

    # -- requests ------------------------------------------------------------------------

    def request_problems(
        self,
        method: str,
        path: str,
        query: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]] | None = None,
    ) -> list[str]:
        """Return what is wrong with a request (empty: it matches the spec).

        *query* is a mapping (values may be lists for repeated parameters), a sequence of
        ``(name, value)`` pairs or an :class:`httpx.QueryParams`.
        """
        operation, path_values, problems = self._operation_problems(method, path)
        if operation is None:
            return problems
        sent = _query_lists(query)
        parameters = [
            self._resolve(p)
            for p in (
                *self.spec["paths"][operation.template].get("parameters", []),
                *operation.operation.get("parameters", []),
            )
        ]
        declared = set()
        for parameter in parameters:
            name, location = parameter["name"], parameter.get("in")
            schema = parameter.get("schema", {})
            where = f"{method.upper()} {operation.template}: {location} parameter {name!r}"
            if location == "path":
                value = path_values.get(name)
                if value is not None:
                    problems += self.schema_problems(schema, _convert(value, schema), where)
                continue
            if location != "query":
                continue
            declared.add(name)
            values = sent.get(name)
            if not values:
                if parameter.get("required"):
                    problems.append(f"{where} is required but missing")
                continue
            if schema.get("type") == "array":
                items = values if parameter.get("explode", True) else values[0].split(",")
                converted: Any = [_convert(v, schema.get("items", {})) for v in items]
            else:
                if len(values) > 1:
                    problems.append(f"{where} is sent {len(values)} times")
                converted = _convert(values[0], schema)
            problems += self.schema_problems(schema, converted, where)
        if self.strict:
            for name in sent:
                if name not in declared:
                    problems.append(
                        f"{method.upper()} {operation.template}: query parameter {name!r} is "
                        f"not declared (declared: {', '.join(sorted(declared)) or 'none'})"
                    )
        return problems

    def check_request(
        self,
        method: str,
        path: str,
        query: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Raise :class:`ContractViolation` if the request does not match the spec."""
        problems = self.request_problems(method, path, query)
        if problems:
            raise ContractViolation(f"request {method.upper()} {path}", problems)

    # -- responses -----------------------------------------------------------------------

    def response_problems(
        self,
        method: str,
        path: str,
        status: int,
        content_type: str | None,
        body: Any = None,
        *,
        allow_undocumented: Collection[int] = (),
    ) -> list[str]:
        """Return what is wrong with a response (empty: it matches the spec).

        *body* is the decoded JSON body (``None`` for an empty or non-JSON body).  A status in
        *allow_undocumented* passes without checks even if the spec does not declare it.
        """
        operation, _, problems = self._operation_problems(method, path)
        if operation is None:
            return problems
        where = f"{method.upper()} {operation.template} {status}"
        responses: Mapping[str, Any] = operation.operation.get("responses", {})
        response = None
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                response = self._resolve(responses[key])
                break
        if response is None:
            if status in allow_undocumented:
                return []
            return [
                f"{where}: status {status} is not declared (declared: "
                f"{', '.join(sorted(responses)) or 'none'})"
            ]
        content: Mapping[str, Any] = response.get("content") or {}
        if not content:
            return problems
        media = _media_type(content_type)
        if media not in {_media_type(m) for m in content}:
            return [
                f"{where}: content type {media or '(none)'!r} is not declared "
                f"(declared: {', '.join(content)})"
            ]
        schema = next(v for m, v in content.items() if _media_type(m) == media).get("schema")
        if schema and (media == "application/json" or media.endswith("+json")):
            problems += self.schema_problems(schema, body, f"{where} body")
        return problems

    def check_response(
        self,
        method: str,
        path: str,
        status: int,
        content_type: str | None,
        body: Any = None,
        *,
        allow_undocumented: Collection[int] = (),
    ) -> None:
        """Raise :class:`ContractViolation` if the response does not match the spec."""
        problems = self.response_problems(
            method, path, status, content_type, body, allow_undocumented=allow_undocumented
        )
        if problems:
            raise ContractViolation(f"response {status} to {method.upper()} {path}", problems)

    def check_exchange(
        self, response: httpx.Response, *, allow_undocumented: Collection[int] = ()
    ) -> None:
        """Check an httpx response and its request (read the response first)."""
        request = response.request
        self.check_request(request.method, request.url.path, request.url.params.multi_items())
        content_type = response.headers.get("content-type")
        body = response.json() if "json" in _media_type(content_type) and response.content else None
        self.check_response(
            request.method,
            request.url.path,
            response.status_code,
            content_type,
            body,
            allow_undocumented=allow_undocumented,
        )


def _url_path(url: str) -> str:
    if "://" in url:
        url = url.split("://", 1)[1]
        return "/" + url.split("/", 1)[1] if "/" in url else "/"
    return url


def _query_lists(
    query: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]] | None,
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if query is None:
        return out
    multi_items = getattr(query, "multi_items", None)
    if callable(multi_items):
        pairs: Iterable[tuple[str, str]] = multi_items()
    elif isinstance(query, Mapping):
        pairs = [
            (name, v)
            for name, value in query.items()
            for v in ([value] if isinstance(value, str) else value)
        ]
    else:
        pairs = query
    for name, value in pairs:
        out.setdefault(name, []).append(str(value))
    return out


def _convert(value: str, schema: Mapping[str, Any]) -> Any:
    """Convert a query/path string to the schema's type (unconvertible values stay strings)."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value
