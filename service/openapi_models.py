"""The OpenAPI document's request schemas per served model, as strict as the server's own validation.

The pydantic bodies take any `model` string and any `label`, `latent` or codes, but whether those fit depends on
the model named: a label on an unconditional model, a latent of the wrong length or an InfoGAN code a model lacks
is a 422. A fuzzer (or a client generated from the document) would send such bodies believing them valid. So
each sampling body becomes `anyOf` one variant per group of served models that accept the same bodies: `model`
is an enum of the group's names (optional where the server's default belongs to it), and labels, latents, codes,
directions and words are the group's. Path parameters are enums of the models the path serves, and the v2
inference body describes the seed form (one seed per image, an optional label tensor). Built from the served
models, so `service.openapi` rebuilds the document when they change (start-up, reload).

Not expressible, so left as the server describes it in words: the contents of an uploaded image (`/translate`,
`/encode`, and the `image` fields of models with an encoder: null only for the others), and, for `/text2image`,
that at most `max_tokens` of the words are known (the schema requires one known word).
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from service.manifest import Manifest
from service.pipelines import LoadedTextToImage, LoadedTranslator, Pipeline
from service.registry import LoadedModel

Schema = dict[str, Any]
NULL: Schema = {"type": "null"}
REF = "#/components/schemas/"
SEED_MAX = 2**32 - 1
# v2 seed tensors: the datatypes that hold every seed the service takes, and the exact-integer bound of floats.
SEED_DATATYPES: tuple[tuple[list[str], int], ...] = (
    (["INT64", "UINT32", "UINT64"], SEED_MAX),
    (["INT32"], 2**31 - 1),
    (["FP64"], SEED_MAX),
    (["FP32"], 2**24),
)
LABEL_DATATYPES = ["INT64", "INT32", "UINT32", "UINT64"]
# Operations whose body schema is replaced: path → (component schema, variant builder name).
BODIES = {
    "/generate": "GenerateRequest",
    "/interpolate": "InterpolateRequest",
    "/arithmetic": "ArithmeticRequest",
    "/infogan": "InfoGANRequest",
    "/translate": "TranslateRequest",
    "/text2image": "Text2ImageRequest",
}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, NULL]}


def _label(m: Manifest) -> Schema:
    """A label the model takes: an index or a class name; only null for an unconditional model."""
    if not m.conditional:
        return NULL
    names = m.labels()
    index = {"type": "integer", "minimum": 0, "maximum": len(names) - 1}
    return nullable({"anyOf": [index, {"type": "string", "enum": names}]})


def _latent(dim: int) -> Schema:
    number = {"type": "number", "minimum": -100.0, "maximum": 100.0}
    return {"type": "array", "items": number, "minItems": dim, "maxItems": dim}


def _codes(m: Manifest) -> Schema:
    """/generate's `codes`: an InfoGAN model's categorical index and continuous values; only null otherwise."""
    if m.codes is None:
        return NULL
    n_cat, k = m.codes.categorical[0], m.codes.continuous
    code = {"type": "number", "minimum": -100.0, "maximum": 100.0}
    codes = {
        "type": "object",
        "additionalProperties": False,
        "required": ["categorical", "continuous"],
        "properties": {
            "categorical": {"type": "integer", "minimum": 0, "maximum": n_cat - 1},
            "continuous": {"type": "array", "items": code, "minItems": k, "maxItems": k},
        },
    }
    return nullable(codes)


def _model(names: list[str], default: bool) -> Schema:
    enum = {"type": "string", "enum": names}
    return nullable(enum) if default else enum


def _variant(base: Schema, title: str, names: list[str], default: bool, **props: Schema) -> Schema:
    """The base body with `model` limited to `names` (required unless the default is one) and `props` replaced."""
    out = copy.deepcopy(base)
    out.pop("examples", None)
    out["title"] = title
    out["properties"] |= {"model": _model(names, default)} | props
    required = set(out.get("required", [])) | ({"model"} if not default else set())
    if required:
        out["required"] = sorted(required)
    return out


def _one_of(*fields: str) -> Schema:
    """At least one of `fields` given and not null."""
    return {"anyOf": [{"required": [f], "not": {"properties": {f: NULL}}} for f in fields]}


def _names(variant: Schema) -> list[str]:
    """The model names a variant's `model` property allows."""
    model = variant.get("properties", {}).get("model", {})
    return [n for s in [model, *model.get("anyOf", [])] for n in s.get("enum", [])]


def _groups(models: Iterable[LoadedModel], key: Callable[[LoadedModel], Any]) -> list[list[LoadedModel]]:
    """Models that accept the same bodies, grouped (sorted by name, so the document is stable)."""
    found: dict[Any, list[LoadedModel]] = defaultdict(list)
    for model in sorted(models, key=lambda m: m.name):
        found[key(model)].append(model)
    return list(found.values())


def _no_images(base: Schema, *fields: str) -> dict[str, Schema]:
    """Image fields (issue #21's encoders) only null, for models that have no encoder to read them."""
    return {f: NULL for f in fields if f in base.get("properties", {})}


class Bodies:
    """Variant schemas of each sampling body, for one set of served models."""

    def __init__(
        self, schemas: dict[str, Schema], generators: list[LoadedModel], pipelines: list[Pipeline], default: str | None
    ) -> None:
        self.schemas = schemas
        self.generators = generators
        self.pipelines = pipelines
        self.default = default
        self.added: dict[str, Schema] = {}

    def _add(self, name: str, schema: Schema) -> Schema:
        self.added[name] = schema
        return {"$ref": REF + name}

    def _by_shape(self) -> list[tuple[list[str], bool, Manifest, bool]]:
        """(names, whether the default is one, a manifest, whether they have an encoder) per group."""

        def key(g: LoadedModel) -> Any:
            m = g.manifest
            codes = (m.codes.categorical[0], m.codes.continuous) if m.codes else None
            return (tuple(m.labels()) if m.conditional else None, m.latent_dim, g.encoder is not None, codes)

        out = []
        for group in _groups(self.generators, key):
            names, first = [g.name for g in group], group[0]
            out.append((names, self.default in names, first.manifest, first.encoder is not None))
        return out

    def generate(self, base: Schema) -> list[Schema]:
        out = []
        for names, default, m, encoder in self._by_shape():
            n_one = copy.deepcopy(base["properties"]["n"]) | {"maximum": 1}
            images = {} if encoder else _no_images(base, "image")
            codes = {"codes": _codes(m)} if "codes" in base["properties"] else {}
            drawn = _variant(
                base, f"generate {names[0]}", names, default, label=_label(m), latent=NULL, **images, **codes
            )
            given = _variant(
                base,
                f"generate {names[0]}, a latent",
                names,
                default,
                label=_label(m),
                latent=_latent(m.latent_dim),
                **codes,
                n=n_one,
                **images,
            )
            given["required"] = sorted({*given.get("required", []), "latent"})
            out += [
                self._add(f"GenerateRequest.{names[0]}", drawn),
                self._add(f"GenerateRequest.{names[0]}.latent", given),
            ]
        return out

    def interpolate(self, base: Schema) -> list[Schema]:
        out = []
        for names, default, m, encoder in self._by_shape():
            latent = nullable(_latent(m.latent_dim))
            images = {} if encoder else _no_images(base, "image_a", "image_b")
            v = _variant(
                base,
                f"interpolate {names[0]}",
                names,
                default,
                label_a=_label(m),
                label_b=_label(m),
                latent_a=latent,
                latent_b=latent,
                **images,
            )
            ends = [[f"seed_{e}", f"latent_{e}"] + ([f"image_{e}"] if encoder else []) for e in "ab"]
            v["allOf"] = [_one_of(*fields) for fields in ends]
            out.append(self._add(f"InterpolateRequest.{names[0]}", v))
        return out

    def arithmetic(self, base: Schema) -> list[Schema]:
        term = self.schemas["ArithmeticTerm"]
        out = []
        for names, default, m, encoder in self._by_shape():
            t = copy.deepcopy(term)
            t["title"] = f"arithmetic term {names[0]}"
            t["properties"] |= {"label": _label(m), "latent": nullable(_latent(m.latent_dim))}
            t["properties"] |= {} if encoder else _no_images(term, "image")
            seeds = t["properties"]["seeds"]
            one_seed = {"anyOf": [NULL, next(s for s in seeds["anyOf"] if s.get("type") == "array") | {"maxItems": 1}]}
            t["anyOf"] = [
                {"required": ["seeds"], "properties": {"seeds": {"type": "array"}, "latent": NULL}},
                {"required": ["latent"], "properties": {"latent": {"type": "array"}, "seeds": one_seed}},
            ]
            if encoder:  # an image in place of the latent; its contents are beyond a schema
                t["anyOf"].append({"required": ["image"], "properties": {"image": {"type": "string"}}})
            terms = copy.deepcopy(base["properties"]["terms"]) | {"items": self._add(f"ArithmeticTerm.{names[0]}", t)}
            v = _variant(base, f"arithmetic {names[0]}", names, default, label=_label(m), terms=terms)
            out.append(self._add(f"ArithmeticRequest.{names[0]}", v))
        return out

    def infogan(self, base: Schema) -> list[Schema]:
        coded = [g for g in self.generators if g.manifest.codes]
        sweep = self.schemas["Sweep"]
        out = []

        def shape(g: LoadedModel) -> tuple[int, int, int]:
            codes = g.manifest.codes
            assert codes is not None  # `coded` holds only models with codes
            return codes.categorical[0], codes.continuous, g.manifest.latent_dim

        for group in _groups(coded, shape):
            names = [g.name for g in group]
            codes = group[0].manifest.codes
            assert codes is not None
            n_cat, k = codes.categorical[0], codes.continuous
            values = sweep["properties"]["values"]
            cat_sweep = copy.deepcopy(sweep) | {"title": f"sweep {names[0]} categorical"}
            cat_sweep["properties"] = {
                "code": {"type": "string", "const": "categorical"},
                "values": values | {"items": {"type": "integer", "minimum": 0, "maximum": n_cat - 1}},
            }
            cont_sweep = copy.deepcopy(sweep) | {"title": f"sweep {names[0]} continuous"}
            cont_sweep["properties"] = {
                "code": {"type": "string", "enum": [f"continuous:{i}" for i in range(k)]},
                "values": values | {"items": {"type": "number", "minimum": -100.0, "maximum": 100.0}},
            }
            code = {"type": "number", "minimum": -100.0, "maximum": 100.0}
            v = _variant(
                base,
                f"infogan {names[0]}",
                names,
                self.default in names,
                categorical=nullable({"type": "integer", "minimum": 0, "maximum": n_cat - 1}),
                continuous=nullable({"type": "array", "items": code, "minItems": k, "maxItems": k}),
                sweep={"anyOf": [cat_sweep, cont_sweep, NULL]},
                **(
                    {"latent": nullable(_latent(group[0].manifest.latent_dim))}
                    if "latent" in base["properties"]
                    else {}
                ),
            )
            out.append(self._add(f"InfoGANRequest.{names[0]}", v))
        return out

    def translate(self, base: Schema) -> list[Schema]:
        translators = sorted((p for p in self.pipelines if isinstance(p, LoadedTranslator)), key=lambda p: p.name)
        out = []
        for i, p in enumerate(translators):
            keys = sorted(p.manifest.directions)
            direction = {"type": "string", "enum": keys} | ({"default": "a2b"} if "a2b" in keys else {})
            v = _variant(base, f"translate {p.name}", [p.name], i == 0, direction=direction)
            if "a2b" not in keys:
                v["required"] = sorted({*v.get("required", []), "direction"})
            v["not"] = {
                "required": ["image", "seed"],
                "properties": {"image": {"type": "string"}, "seed": {"type": "integer"}},
            }
            out.append(self._add(f"TranslateRequest.{p.name}", v))
        return out

    def text2image(self, base: Schema) -> list[Schema]:
        readers = sorted((p for p in self.pipelines if isinstance(p, LoadedTextToImage)), key=lambda p: p.name)
        out = []
        for i, p in enumerate(readers):
            known = [w for w in p.manifest.text.vocabulary if re.fullmatch("[a-z]+", w)]
            word = "|".join("".join(f"[{c}{c.upper()}]" for c in w) for w in sorted(known, key=len, reverse=True))
            text = copy.deepcopy(base["properties"]["text"]) | {"pattern": f"(^|[^A-Za-z])({word})([^A-Za-z]|$)"}
            v = _variant(base, f"text2image {p.name}", [p.name], i == 0, text=text)
            out.append(self._add(f"Text2ImageRequest.{p.name}", v))
        return out


def _seed_tensor(rows: int) -> Schema:
    variants = []
    for datatypes, high in SEED_DATATYPES:
        data = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": high}}
        variants.append(
            {"properties": {"datatype": {"enum": datatypes}, "data": data | {"minItems": rows, "maxItems": rows}}}
        )
    return {
        "type": "object",
        "required": ["name", "shape", "datatype", "data"],
        "properties": {
            "name": {"const": "seed"},
            "shape": {"const": [rows]},
            "datatype": {"enum": [d for ds, _ in SEED_DATATYPES for d in ds]},
            "parameters": {"type": "object", "properties": {"binary_data_size": NULL}},  # JSON data, not binary
            "data": {"type": "array"},
        },
        "anyOf": variants,
    }


def v2_infer(max_n: int) -> Schema:
    """The JSON seed form of an inference request: one `seed` tensor of N seeds (N in 1..max_n, one branch each,
    as JSON Schema cannot tie `shape` to the length of `data`). Keys the protocol ignores are allowed, as the
    server ignores them; the graph-input and label forms are described in docs/API.md."""
    truncation = nullable({"type": "number", "exclusiveMinimum": 0.0, "maximum": 1.0})
    output = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"const": "image"}, "parameters": {"type": "object"}},
    }
    return {
        "type": "object",
        "title": "InferRequest",
        "required": ["inputs"],
        "properties": {
            "id": nullable({"type": "string"}),
            "parameters": {"type": "object", "properties": {"truncation": truncation}},
            "inputs": {"type": "array"},
            "outputs": nullable({"type": "array", "items": output}),
        },
        "anyOf": [
            {"properties": {"inputs": {"type": "array", "minItems": 1, "maxItems": 1, "items": _seed_tensor(rows)}}}
            for rows in range(1, max_n + 1)
        ],
    }


def document(
    doc: dict[str, Any], generators: list[LoadedModel], pipelines: list[Pipeline], default: str | None, max_n: int
) -> None:
    """Write the served models' body variants and path enums into an OpenAPI document (nothing while none is
    served: the generic schemas stay)."""
    if not generators and not pipelines:
        return
    schemas = doc["components"]["schemas"]
    bodies = Bodies(schemas, generators, pipelines, default)
    for path, name in BODIES.items():
        op = doc["paths"].get(path, {}).get("post")
        base = schemas.get(name) or schemas.get(f"{name}-Input")
        if op is None or base is None:
            continue
        variants = getattr(bodies, path.strip("/"))(base)
        if not variants:
            continue
        served = {n for v in variants for n in _names(bodies.added[v["$ref"].removeprefix(REF)])}
        examples = [e for e in base.get("examples", []) if e.get("model") in served]
        union = {"title": f"{name} (served models)", "anyOf": variants} | ({"examples": examples} if examples else {})
        op["requestBody"]["content"]["application/json"]["schema"] = bodies._add(f"{name}.served", union)
    schemas.update(bodies.added)
    every = sorted([m.name for m in generators] + [p.name for p in pipelines])
    for path, item in doc["paths"].items():
        names = sorted(m.name for m in generators) if path.startswith("/v2/") else every
        for op in item.values():
            for param in op.get("parameters", []):
                if param["in"] == "path" and param["name"] == "name" and names:
                    param["schema"] = {"type": "string", "enum": names}
    infer = doc["paths"].get("/v2/models/{name}/infer", {}).get("post")
    if infer is not None and generators:
        schemas["InferRequest"] = v2_infer(max_n)
        body = {"application/json": {"schema": {"$ref": REF + "InferRequest"}}}
        infer["requestBody"] = {"required": True, "content": body}
