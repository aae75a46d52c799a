"""The `manifest.json` schema that `training` writes beside each exported generator.

Pure pydantic and importable without side effects: the training tests validate what they
write with `Manifest.model_validate`, and the service refuses to serve a model whose manifest
and ONNX signature disagree.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Dim = int | str  # a fixed size, or a symbolic axis such as "N"


class ImageSpec(BaseModel):
    """Shape of one generated image."""

    model_config = ConfigDict(frozen=True)

    channels: Literal[1, 3]
    height: int = Field(ge=1, le=4096)
    width: int = Field(ge=1, le=4096)


class CodeSpec(BaseModel):
    """InfoGAN latent codes: one categorical code (its size) and `continuous` uniform codes."""

    model_config = ConfigDict(frozen=True)

    categorical: list[int] = Field(min_length=1, max_length=1)  # the ONNX input c_cat is int64 [N]
    continuous: int = Field(ge=1, le=64)

    @model_validator(mode="after")
    def _sizes(self) -> CodeSpec:
        if any(k < 2 for k in self.categorical):
            raise ValueError("codes.categorical: each categorical code needs at least 2 values")
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

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
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
        if "/" in self.file or "\\" in self.file or self.file.startswith("."):
            raise ValueError("file: must be a plain file name inside the model folder")
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


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so a large model never sits in memory twice."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(folder: Path) -> Manifest:
    """Read and validate `folder/manifest.json` (raises OSError or pydantic.ValidationError)."""
    return Manifest.model_validate_json((folder / "manifest.json").read_bytes())
