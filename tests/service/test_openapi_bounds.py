"""The served OpenAPI document carries every bound that request validation enforces (issue #40).

Each constraint pydantic checks on a request body (`ge`, `le`, `gt`, `lt`, lengths), found by walking the request
models' annotations, must appear as its JSON Schema keyword at the same place in the document a real server
serves; otherwise a schema-valid request is refused, which is what schemathesis reported for `/infogan`'s
`columns` and `/text2image`'s `seed`.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types as at
import httpx
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from service import schemas

Path = tuple[str, ...]  # "items" steps from a field's schema down to the constrained value
KEYWORDS: dict[type, tuple[str, ...]] = {
    at.Ge: ("minimum",),
    at.Le: ("maximum",),
    at.Gt: ("exclusiveMinimum",),
    at.Lt: ("exclusiveMaximum",),
    at.MinLen: ("minItems", "minLength"),
    at.MaxLen: ("maxItems", "maxLength"),
}
PYDANTIC_WORDS = {"ge", "le", "gt", "lt", "min_length", "max_length"}


def request_models() -> list[type[BaseModel]]:
    """Every request body of service.schemas' modules and the models nested in them."""
    modules = [importlib.import_module(f"{schemas.__name__}.{m.name}") for m in pkgutil.iter_modules(schemas.__path__)]
    found = [m for mod in modules for n, m in vars(mod).items() if n.endswith("Request") and isinstance(m, type)]
    out: list[type[BaseModel]] = []
    while found:
        model = found.pop()
        if model in out:
            continue
        out.append(model)
        for field in model.model_fields.values():
            found += [t for t in _types(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    return out


def _types(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in get_args(annotation):
        yield from _types(arg)


def constraints(annotation: Any, metadata: list[Any], path: Path = ()) -> Iterator[tuple[Path, str, tuple, Any]]:
    """(path, name, JSON Schema keywords, value) of each bound on a value of `annotation`."""
    for item in metadata:
        if isinstance(item, FieldInfo):
            yield from constraints(None, item.metadata, path)
        for kind, words in KEYWORDS.items():
            if isinstance(item, kind):
                yield path, type(item).__name__, words, getattr(item, dataclasses.fields(item)[0].name)
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        yield from constraints(args[0], list(args[1:]), path)
    elif origin in (Union, types.UnionType):
        for arg in args:
            yield from constraints(arg, [], path)
    elif origin is list:
        yield from constraints(args[0], [], (*path, "items"))


def carries(doc: dict, schema: dict, path: Path, words: tuple, value: Any) -> bool:
    """Whether `schema` (or a branch of it) holds one of `words` = `value` at `path`."""
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
    branches = [b for key in ("anyOf", "allOf", "oneOf") for b in schema.get(key, [])]
    if any(carries(doc, b, path, words, value) for b in branches):
        return True
    if path:
        return path[0] in schema and carries(doc, schema[path[0]], path[1:], words, value)
    return any(schema.get(w) == value for w in words)


def pydantic_words(node: Any, where: str = "") -> Iterator[str]:
    """Where pydantic's own constraint names were written into the document (no JSON Schema validator reads them)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PYDANTIC_WORDS:
                yield f"{where}/{key}"
            if key != "properties":
                yield from pydantic_words(value, f"{where}/{key}")
            else:
                for name, prop in value.items():
                    yield from pydantic_words(prop, f"{where}/properties/{name}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from pydantic_words(value, f"{where}/{i}")


def schema_of(doc: dict, name: str) -> dict:
    """A request model's schema: a component, or written inline into its operation (POST /encode's)."""
    components = doc["components"]["schemas"]
    found = components.get(name) or components.get(f"{name}-Input")
    for item in doc["paths"].values():
        for op in item.values():
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            found = found or (schema if schema.get("title") == name else None)
    assert found is not None, f"{name} is not in the document"
    return found


def test_every_request_bound_is_in_the_openapi_document(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    components = doc["components"]["schemas"]
    assert not list(pydantic_words(components))
    checked, missing = 0, []
    for model in request_models():
        base = schema_of(doc, model.__name__)
        for name, field in model.model_fields.items():
            for path, kind, words, value in constraints(field.annotation, list(field.metadata)):
                checked += 1
                if not carries(doc, base["properties"][name], path, words, value):
                    missing.append(f"{model.__name__}.{name}{''.join('[]' for _ in path)}: {kind} {value}")
    assert checked > 30 and not missing, missing


def test_the_walk_finds_the_bounds_that_were_missing() -> None:
    """The two bounds schemathesis found missing are among those walked (so the test above covers them)."""
    walked = {
        (model.__name__, name, kind, value)
        for model in request_models()
        for name, field in model.model_fields.items()
        for _, kind, _, value in constraints(field.annotation, list(field.metadata))
    }
    assert ("InfoGANRequest", "columns", "Le", 256) in walked
    assert ("Text2ImageRequest", "seed", "Ge", 0) in walked
    assert ("InfoGANRequest", "categorical", "Ge", 0) in walked
