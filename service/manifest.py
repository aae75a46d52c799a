"""The `manifest.json` schema that `training` writes beside each exported generator.

Pure pydantic and importable without side effects: the training tests validate what they
write with `Manifest.model_validate`, and the service refuses to serve a model whose manifest
and ONNX signature disagree.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Dim = int | str  # a fixed size, or a symbolic axis such as "N"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Kind = Literal["generator", "translator", "text2image"]


class ImageSpec(BaseModel):
    """Shape of one generated image."""

    model_config = ConfigDict(frozen=True)

    channels: Literal[1, 3]
    height: int = Field(ge=1, le=4096)
    width: int = Field(ge=1, le=4096)


class CodeMeaning(BaseModel):
    """What a continuous code was measured to control: the image attribute it tracks best, and how well."""

    model_config = ConfigDict(frozen=True)

    attribute: str  # slant, width, thickness or size (training/captions.py measures them)
    r: float = Field(ge=-1, le=1)  # Pearson r of the code with the attribute over c ~ U(-1, 1)


class CodeSpec(BaseModel):
    """InfoGAN latent codes: one categorical code (its size) and `continuous` uniform codes, with the meaning
    `python -m training evaluate` measured for each continuous code (null: none clear enough to name)."""

    model_config = ConfigDict(frozen=True)

    categorical: list[int] = Field(min_length=1, max_length=1)  # the ONNX input c_cat is int64 [N]
    continuous: int = Field(ge=1, le=64)
    continuous_meaning: list[CodeMeaning | None] | None = None

    @model_validator(mode="after")
    def _sizes(self) -> CodeSpec:
        if any(k < 2 for k in self.categorical):
            raise ValueError("codes.categorical: each categorical code needs at least 2 values")
        if self.continuous_meaning is not None and len(self.continuous_meaning) != self.continuous:
            raise ValueError("codes.continuous_meaning: one entry (or null) per continuous code")
        return self


class TensorSpec(BaseModel):
    """One ONNX graph input or output."""

    model_config = ConfigDict(frozen=True)

    name: str
    dtype: Literal["float32", "int64"]
    shape: list[Dim]


class Manifest(BaseModel):
    """Everything the service needs to know about an exported generator, without opening it."""

    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["generator"] = "generator"  # other kinds: TranslatorManifest, TextToImageManifest
    variant: str
    dataset: str
    latent_dim: int = Field(ge=1, le=4096)
    conditional: bool = False
    num_classes: int | None = Field(None, ge=2)
    class_names: list[str] | None = None
    codes: CodeSpec | None = None
    label_blend: bool = False  # True: `label` is float32 [N, num_classes] and takes class mixtures
    image: ImageSpec
    inputs: list[TensorSpec]
    outputs: list[TensorSpec] = Field(min_length=1)
    file: str = "model.onnx"
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    opset: int = Field(ge=7)
    training: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float | None] = Field(default_factory=dict)
    credit: str | None = Field(None, max_length=500)  # the training data's credit, shown with every sample

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        """Cross-field rules; each message names the field to fix."""
        if self.conditional:
            if self.num_classes is None:
                raise ValueError("num_classes: required for a conditional model")
            if self.class_names is not None and len(self.class_names) != self.num_classes:
                raise ValueError(f"class_names: {len(self.class_names)} names for {self.num_classes} classes")
            if self.class_names is not None and len(set(self.class_names)) != len(self.class_names):
                raise ValueError("class_names: names must be unique")
        elif self.label_blend:
            raise ValueError("label_blend: only a conditional model can blend labels")
        _plain_file(self.file, "file")
        expected = self.expected_inputs()
        got = {t.name: t for t in self.inputs}
        if set(got) != set(expected):
            raise ValueError(f"inputs: expected names {sorted(expected)}, got {sorted(got)}")
        for name, (dtype, shape) in expected.items():
            if got[name].dtype != dtype or got[name].shape[1:] != shape[1:]:
                raise ValueError(f"inputs: {name} must be {dtype} {shape}, got {got[name].dtype} {got[name].shape}")
        out = self.outputs[0].shape
        want = [self.image.channels, self.image.height, self.image.width]
        if self.outputs[0].dtype != "float32" or len(out) != 4 or out[1:] != want:
            raise ValueError(f"outputs: the first output must be float32 [N, {', '.join(map(str, want))}]")
        return self

    def expected_inputs(self) -> dict[str, tuple[str, list[Dim]]]:
        """The ONNX inputs this manifest implies (exported_models/README.md)."""
        spec: dict[str, tuple[str, list[Dim]]] = {"z": ("float32", ["N", self.latent_dim])}
        if self.conditional:
            assert self.num_classes is not None
            spec["label"] = ("float32", ["N", self.num_classes]) if self.label_blend else ("int64", ["N"])
        if self.codes is not None:
            spec["c_cat"] = ("int64", ["N"])
            spec["c_cont"] = ("float32", ["N", self.codes.continuous])
        return spec

    def labels(self) -> list[str]:
        """Class names, falling back to the indices as strings."""
        if not self.conditional or self.num_classes is None:
            return []
        return list(self.class_names) if self.class_names else [str(i) for i in range(self.num_classes)]


def _plain_file(name: str, field: str) -> None:
    if "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"{field}: must be a plain file name inside the model folder")


def _check_tensors(got: list[TensorSpec], want: dict[str, tuple[str, list[Dim]]], field: str) -> None:
    """Names, dtypes and non-batch sizes of `got` must be those of `want`."""
    by_name = {t.name: t for t in got}
    if set(by_name) != set(want):
        raise ValueError(f"{field}: expected names {sorted(want)}, got {sorted(by_name)}")
    for name, (dtype, shape) in want.items():
        t = by_name[name]
        if t.dtype != dtype or len(t.shape) != len(shape) or t.shape[1:] != shape[1:]:
            raise ValueError(f"{field}: {name} must be {dtype} {shape}, got {t.dtype} {t.shape}")


class DirectionSpec(BaseModel):
    """One translation direction of a translator: its ONNX file and its bank of source-domain test images."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    source: str
    target: str
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bank: str  # .npy, uint8 [K, H, W]: images of the source domain's test split, picked by seed
    bank_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class TranslatorManifest(BaseModel):
    """An image-to-image model (CycleGAN): one ONNX graph per direction, each `source` → `image`."""

    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["translator"]
    variant: str
    dataset: str
    domains: dict[str, str]
    directions: dict[str, DirectionSpec] = Field(min_length=1)
    image: ImageSpec
    inputs: list[TensorSpec]
    outputs: list[TensorSpec] = Field(min_length=1)
    opset: int = Field(ge=7)
    training: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float | None] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> TranslatorManifest:
        for key, d in self.directions.items():
            if not re.fullmatch(r"[a-z0-9_-]{1,32}", key):
                raise ValueError(f"directions: {key!r} is not a short lower-case name")
            _plain_file(d.file, f"directions.{key}.file")
            _plain_file(d.bank, f"directions.{key}.bank")
        _check_tensors(self.inputs, self.expected_inputs(), "inputs")
        _check_tensors(self.outputs[:1], {"image": ("float32", self._image_shape())}, "outputs")
        return self

    def files(self) -> list[tuple[str, str]]:
        """(file name, sha256) of every file this model is served from."""
        return [pair for d in self.directions.values() for pair in ((d.file, d.sha256), (d.bank, d.bank_sha256))]

    def _image_shape(self) -> list[Dim]:
        return ["N", self.image.channels, self.image.height, self.image.width]

    def expected_inputs(self) -> dict[str, tuple[str, list[Dim]]]:
        return {"source": ("float32", self._image_shape())}


class TextSpec(BaseModel):
    """How a text-to-image model reads text: split into words (service/text.py), look up, pad."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    vocabulary: list[str] = Field(min_length=2)
    pad: int = Field(0, ge=0)
    max_tokens: int = Field(ge=1, le=256)
    class_words: list[str] = Field(default_factory=list)
    attributes: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> TextSpec:
        if len(set(self.vocabulary)) != len(self.vocabulary):
            raise ValueError("text.vocabulary: words must be unique")
        if self.pad >= len(self.vocabulary):
            raise ValueError("text.pad: not an index of the vocabulary")
        return self


class TextToImageManifest(BaseModel):
    """A text-to-image model (StackGAN): tokens, z and conditioning noise `eps` → image (and `stage1`)."""

    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["text2image"]
    variant: str
    dataset: str
    latent_dim: int = Field(ge=1, le=4096)
    c_dim: int = Field(ge=1, le=4096)
    image: ImageSpec
    text: TextSpec
    inputs: list[TensorSpec]
    outputs: list[TensorSpec] = Field(min_length=1)
    file: str = "model.onnx"
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    opset: int = Field(ge=7)
    training: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float | None] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> TextToImageManifest:
        _plain_file(self.file, "file")
        _check_tensors(self.inputs, self.expected_inputs(), "inputs")
        shape: list[Dim] = ["N", self.image.channels, self.image.height, self.image.width]
        _check_tensors(self.outputs[:1], {"image": ("float32", shape)}, "outputs")
        return self

    def files(self) -> list[tuple[str, str]]:
        return [(self.file, self.sha256)]

    def expected_inputs(self) -> dict[str, tuple[str, list[Dim]]]:
        return {
            "tokens": ("int64", ["N", self.text.max_tokens]),
            "z": ("float32", ["N", self.latent_dim]),
            "eps": ("float32", ["N", self.c_dim]),
        }


AnyManifest = Manifest | TranslatorManifest | TextToImageManifest
MANIFESTS: dict[str, type[AnyManifest]] = {
    "generator": Manifest,
    "translator": TranslatorManifest,
    "text2image": TextToImageManifest,
}


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so a large model never sits in memory twice."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(folder: Path) -> Manifest:
    """Read and validate a generator's `folder/manifest.json` (raises OSError or pydantic.ValidationError)."""
    return Manifest.model_validate_json((folder / "manifest.json").read_bytes())


def load_any_manifest(folder: Path) -> AnyManifest:
    """Read `folder/manifest.json` as its `kind` says (absent: "generator"); raises OSError, ValueError
    (not a JSON object, unknown kind) or pydantic.ValidationError (a subclass of ValueError)."""
    raw = json.loads((folder / "manifest.json").read_bytes())
    if not isinstance(raw, dict):
        raise ValueError("manifest.json must hold a JSON object")
    kind = raw.get("kind", "generator")
    if kind not in MANIFESTS:
        raise ValueError(f"kind: {kind!r} is not one of {sorted(MANIFESTS)}")
    return MANIFESTS[kind].model_validate(raw)
