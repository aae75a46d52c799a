"""Encoders of served generators (issue #21): an image (and, for conditional models, its label) → the latent.

`python -m training encoder` writes `encoder.onnx` beside a generator's `model.onnx` and lists it in the
manifest under `encoder`, with its sha256 and the sha256 of the generator it inverts. A model folder with an
`encoder` entry is served only when that entry verifies (file, checksum, generator version, graph signature),
as the generator itself is. An encoder runs one image per ONNX run, outside the batcher: each image is its own
run, so its latent never depends on what else is being encoded, and a 28×28 image costs well under a
millisecond.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from pydantic import BaseModel, ConfigDict, Field

from service.manifest import Manifest, TensorSpec
from service.sessions import ModelLoadError, open_verified
from service.settings import Settings


class EncoderSpec(BaseModel):
    """The manifest's `encoder` entry."""

    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    file: str = Field("encoder.onnx", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\.onnx$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    generator_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="the model.onnx this encoder inverts")
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    metrics: dict[str, float | int | None] = Field(default_factory=dict)


@dataclass(frozen=True)
class Encoded:
    """What the encoder read from one image: the latent and, for InfoGAN, the codes."""

    z: np.ndarray  # float32 [latent_dim]
    c_cat: int | None = None
    c_cont: np.ndarray | None = None  # float32 [k]


@dataclass(eq=False)
class Encoder:
    spec: EncoderSpec
    session: ort.InferenceSession
    output_names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.output_names = [o.name for o in self.spec.outputs]

    def run(self, image: np.ndarray, label: int | None) -> Encoded:
        """One image, float32 [C, H, W] in [-1, 1] → its latent (and codes)."""
        feeds: dict[str, np.ndarray] = {"image": image[None].astype(np.float32, copy=False)}
        if label is not None:
            feeds["label"] = np.asarray([label], dtype=np.int64)
        outs = dict(zip(self.output_names, self.session.run(self.output_names, feeds), strict=True))
        c_cat = int(outs["c_cat"][0]) if "c_cat" in outs else None
        c_cont = outs["c_cont"][0].astype(np.float32) if "c_cont" in outs else None
        return Encoded(z=outs["latent"][0].astype(np.float32), c_cat=c_cat, c_cont=c_cont)

    async def encode(self, image: np.ndarray, label: int | None) -> Encoded:
        return await asyncio.to_thread(self.run, image, label)


def read_spec(folder: Path) -> EncoderSpec | None:
    """The folder's manifest `encoder` entry, or None when it has none."""
    raw: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    entry = raw.get("encoder")
    return None if entry is None else EncoderSpec.model_validate(entry)


def expected_signature(manifest: Manifest) -> tuple[dict[str, tuple[str, list[Any]]], dict[str, tuple[str, list[Any]]]]:
    """The inputs and outputs an encoder of this generator must have (name → dtype, shape)."""
    img = manifest.image
    inputs: dict[str, tuple[str, list[Any]]] = {"image": ("float32", ["N", img.channels, img.height, img.width])}
    if manifest.conditional:
        inputs["label"] = ("int64", ["N"])
    outputs: dict[str, tuple[str, list[Any]]] = {"latent": ("float32", ["N", manifest.latent_dim])}
    if manifest.codes is not None:
        outputs["c_cat"] = ("int64", ["N"])
        outputs["c_cont"] = ("float32", ["N", manifest.codes.continuous])
    return inputs, outputs


def load_encoder(folder: Path, manifest: Manifest, settings: Settings) -> Encoder | None:
    """The verified encoder of a generator folder, None without one; ModelLoadError says what does not verify."""
    try:
        spec = read_spec(folder)
    except ValueError as exc:
        raise ModelLoadError(f"manifest encoder entry: {exc}") from exc
    if spec is None:
        return None
    if spec.generator_sha256 != manifest.sha256:
        raise ModelLoadError(f"{spec.file} inverts another model.onnx (sha256 {spec.generator_sha256[:12]}…)")
    want_in, want_out = expected_signature(manifest)
    for kind, specs, want in (("inputs", spec.inputs, want_in), ("outputs", spec.outputs, want_out)):
        got = {t.name: (t.dtype, list(t.shape)) for t in specs}
        if got != want:
            raise ModelLoadError(f"{spec.file}: manifest {kind} {got}, the generator needs {want}")
    session, _ = open_verified(folder / spec.file, spec.sha256, settings)
    graph_in = {i.name: list(i.shape)[1:] for i in session.get_inputs()}
    graph_out = {o.name: list(o.shape)[1:] for o in session.get_outputs()}
    if graph_in != {k: v[1][1:] for k, v in want_in.items()} or graph_out != {k: v[1][1:] for k, v in want_out.items()}:
        raise ModelLoadError(f"{spec.file}: graph inputs {graph_in} and outputs {graph_out} differ from the manifest")
    return Encoder(spec, session)
