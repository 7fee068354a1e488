"""Noyo's published contract (``specs/noyo-fulfillment-subset.json``) as a validator.

The sandbox checks every response it sends against it, and the contract tests check every request
the client sends and every response it gets. The document is OpenAPI 3.0.1; its schemas are turned
into JSON Schema once (``nullable`` becomes a ``null`` alternative, examples dropped) and checked
with ``jsonschema`` (Draft 7, with format checks for uuid, date and email).
"""

import copy
import json
import re
from functools import cache
from pathlib import Path

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SPEC_PATH = Path(__file__).resolve().parent / "specs" / "noyo-fulfillment-subset.json"
ROOT_URI = "urn:noyo-fulfillment"


def _to_json_schema(node):
    """OpenAPI 3.0 schema objects -> JSON Schema (Draft 7)."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: _to_json_schema(v)
        for k, v in node.items()
        if k not in ("example", "examples", "nullable", "discriminator", "xml", "externalDocs") and not k.startswith("x-")
    }
    if node.get("$ref", "").startswith("#/"):
        out["$ref"] = ROOT_URI + node["$ref"]
    if node.get("nullable"):
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


@cache
def spec() -> dict:
    return json.loads(SPEC_PATH.read_text())


@cache
def _registry() -> Registry:
    document = {"components": _to_json_schema(copy.deepcopy(spec()["components"]))}
    return Registry().with_resource(ROOT_URI, Resource.from_contents(document, default_specification=DRAFT7))


@cache
def _operations() -> list[tuple[str, re.Pattern, str, dict]]:
    ops = []
    for template, item in spec()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")
        for method, op in item.items():
            if isinstance(op, dict) and method in ("get", "post", "put", "patch", "delete"):
                ops.append((method.upper(), pattern, template, op))
    return ops


def _operation(method: str, path: str):
    for op_method, pattern, template, op in _operations():
        match = pattern.match(path)
        if match and op_method == method.upper():
            return template, op, match.groupdict()
    return None, None, {}


def _errors(schema: dict, value) -> list[str]:
    validator = jsonschema.Draft7Validator(_to_json_schema(schema), registry=_registry(), format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}"
        for e in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _json_schema(body: dict | None, status: str | None = None) -> dict | None:
    content = (body or {}).get("content", {}).get("application/json")
    return content.get("schema") if content else None


def _parameter_errors(op: dict, path_params: dict, query: dict) -> list[str]:
    errors = []
    declared = {p["name"]: p for p in op.get("parameters", []) if "name" in p}
    for name in query:
        if name not in declared or declared[name]["in"] != "query":
            errors.append(f"query {name}: not a parameter of this operation")
    for name, param in declared.items():
        source = path_params if param["in"] == "path" else query if param["in"] == "query" else None
        if source is None:
            continue
        if name not in source:
            if param.get("required"):
                errors.append(f"{param['in']} {name}: required")
            continue
        value = source[name]
        schema = param.get("schema", {})
        if schema.get("type") == "integer":
            if not re.fullmatch(r"-?\d+", str(value)):
                errors.append(f"{param['in']} {name}: {value!r} is not an integer")
                continue
            value = int(value)
        elif schema.get("type") == "boolean":
            value = str(value).lower() == "true" if str(value).lower() in ("true", "false") else value
        errors += [f"{param['in']} {name}: {e.split(': ', 1)[-1]}" for e in _errors(schema, value)]
    return errors


def request_violations(method: str, path: str, *, query: dict | None = None, body=None) -> list[str]:
    """What is wrong with a request (``path`` relative to the API root, e.g. ``/api/v1/groups``)."""
    template, op, path_params = _operation(method, path)
    if op is None:
        return [f"{method} {path}: no such operation in the contract"]
    errors = _parameter_errors(op, path_params, query or {})
    schema = _json_schema(op.get("requestBody"))
    if schema is not None:
        errors += _errors(schema, {} if body is None else body)
    elif body not in (None, b"", {}):
        errors.append("a body was sent to an operation that takes none")
    return [f"{method} {template}: {e}" for e in errors]


def response_violations(method: str, path: str, status: int, body) -> list[str]:
    """What is wrong with a response. Statuses the contract does not document (errors) are not checked."""
    template, op, _ = _operation(method, path)
    if op is None:
        return []
    documented = op.get("responses", {})
    if str(status) not in documented:
        if 200 <= status < 300:
            return [f"{method} {template}: status {status} is not one the contract documents ({', '.join(documented)})"]
        return []
    schema = _json_schema(documented[str(status)])
    if schema is None:
        return []
    return [f"{method} {template} -> {status}: {e}" for e in _errors(schema, body)]
