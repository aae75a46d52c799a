"""Served models: manifest + ONNX Runtime session + the per-image input rules of each model.

Loading is synchronous and slow (sha256, session creation, the identity proof of service/proof.py); the app
runs it in a thread from a background task so `/readyz` can say 503 meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort

from service import sampling
from service.batcher import Inputs
from service.encoders import Encoder, load_encoder
from service.errors import InputError, ModelNotFound
from service.manifest import AnyManifest, Manifest, load_any_manifest
from service.proof import IdentityProof, identity_rows, proof_key, settle_batch_shapes
from service.sessions import check_signature, open_verified, quiet_run_options
from service.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A served generator: what it is (manifest), how it runs (session), how to feed it."""

    manifest: Manifest
    session: ort.InferenceSession
    provider: str
    batch_shapes: Literal["dynamic", "fixed"] = "dynamic"
    buckets: tuple[int, ...] | None = None  # padded batch sizes when batch_shapes == "fixed"
    identity: IdentityProof | None = None  # set by load_model
    encoder: Encoder | None = None  # image → latent, where the folder has one (service/encoders.py)
    output_name: str = field(init=False)
    _run_options: ort.RunOptions = field(init=False, default_factory=quiet_run_options)

    def __post_init__(self) -> None:
        self.output_name = self.session.get_outputs()[0].name

    @property
    def name(self) -> str:
        return self.manifest.name

    def run(self, inputs: Inputs) -> np.ndarray:
        """One ORT run (called from the batcher's inference thread)."""
        out: np.ndarray = self.session.run([self.output_name], inputs, self._run_options)[0]
        return out

    def draw(self, seed: int, truncation: float | None = None) -> sampling.Draw:
        """Everything the seed determines for this model (noise, label, codes), `z` truncated where asked."""
        return self.draws([seed], truncation)[0]

    def draws(self, seeds: Sequence[int], truncation: float | None = None) -> list[sampling.Draw]:
        """`draw` of each seed (cheaper per seed than one `draw` each: `sampling.draws`)."""
        m = self.manifest
        n_cat = m.codes.categorical[0] if m.codes else None
        n_cont = m.codes.continuous if m.codes else 0
        classes = m.num_classes if m.conditional else None
        return sampling.draws(seeds, m.latent_dim, classes, n_cat, n_cont, truncation)

    def resolve_label(self, value: int | str | None, field_name: str) -> int | None:
        """A client label (index or class name) → index; errors name `field_name`."""
        if value is None:
            return None
        names = self.manifest.labels()
        if not self.manifest.conditional:
            raise InputError(field_name, f"model {self.name!r} is unconditional and takes no label")
        if isinstance(value, str):
            if value not in names:
                raise InputError(field_name, f"unknown class name {value!r}; classes: {names}")
            return names.index(value)
        if not 0 <= value < len(names):
            raise InputError(field_name, f"class index {value} out of range [0, {len(names) - 1}]")
        return value

    def class_name(self, label: int | None) -> str | None:
        return None if label is None else self.manifest.labels()[label]

    def frame_label(self, a: int, b: int, t: float) -> int | np.ndarray:
        """Label of an interpolation frame: a class mixture where the model blends, else a switch at 0.5."""
        if self.manifest.label_blend:
            return (1.0 - t) * self._one_hot(a) + t * self._one_hot(b)
        return a if t < 0.5 else b

    def _one_hot(self, label: int) -> np.ndarray:
        v = np.zeros(len(self.manifest.labels()), dtype=np.float32)
        v[label] = 1.0
        return v

    def feeds(
        self,
        zs: Sequence[np.ndarray],
        labels: Sequence[int | np.ndarray | None] | None = None,
        c_cat: Sequence[int | None] | None = None,
        c_cont: Sequence[np.ndarray | None] | None = None,
    ) -> Inputs:
        """Per-image parts → the model's named input arrays, one row per image."""
        m = self.manifest
        out: Inputs = {"z": np.stack(zs).astype(np.float32, copy=False)}
        if m.conditional:
            assert labels is not None and all(x is not None for x in labels), "conditional model needs labels"
            if m.label_blend:
                rows = [x if isinstance(x, np.ndarray) else self._one_hot(int(x or 0)) for x in labels]
                out["label"] = np.stack(rows).astype(np.float32)
            else:
                out["label"] = np.asarray(labels, dtype=np.int64)
        if m.codes is not None:
            assert c_cat is not None and c_cont is not None, "InfoGAN model needs codes"
            conts = [c for c in c_cont if c is not None]
            assert len(conts) == len(c_cont), "InfoGAN model needs c_cont for every image"
            out["c_cat"] = np.asarray(c_cat, dtype=np.int64)
            out["c_cont"] = np.stack(conts).astype(np.float32, copy=False)
        return out

    def feeds_for(self, draws: Sequence[sampling.Draw], label: int | None = None) -> Inputs:
        """Inputs for images drawn from seeds; `label` (if given) replaces each drawn label."""
        labels = [label if label is not None else d.label for d in draws]
        return self.feeds([d.z for d in draws], labels, [d.c_cat for d in draws], [d.c_cont for d in draws])


@dataclass
class ModelRegistry:
    """Models by name, plus the reasons others were refused (shown by /readyz)."""

    models: dict[str, LoadedModel] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def add(self, model: LoadedModel) -> None:
        self.models[model.name] = model

    def remove(self, name: str) -> None:
        self.models.pop(name, None)

    def get(self, name: str) -> LoadedModel:
        """The served model called `name`; ModelNotFound (404) lists the served ones."""
        try:
            return self.models[name]
        except KeyError:
            raise ModelNotFound(name, sorted(self.models)) from None

    def names(self) -> list[str]:
        return sorted(self.models)


def discover(models_dir: Path) -> tuple[list[tuple[Path, Manifest]], dict[str, str]]:
    """Every generator `<models_dir>/<folder>/manifest.json` that validates, and why the other folders don't.

    Folders of other kinds (translators, text-to-image) are left to `discover_all`, and are not failures here.
    """
    found, failed = discover_all(models_dir)
    return [(f, m) for f, m in found if isinstance(m, Manifest)], failed


def discover_all(models_dir: Path) -> tuple[list[tuple[Path, AnyManifest]], dict[str, str]]:
    """Every `<models_dir>/<folder>/manifest.json` that validates, of any kind, and why the others don't."""
    found: list[tuple[Path, AnyManifest]] = []
    failed: dict[str, str] = {}
    if not models_dir.is_dir():
        log.error("models directory %s does not exist", models_dir)
        return found, failed
    for folder in sorted(p for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (folder / "manifest.json").is_file():
            failed[folder.name] = "no manifest.json"
            continue
        try:
            manifest = load_any_manifest(folder)
        except (OSError, ValueError) as exc:  # ValidationError is a ValueError
            failed[folder.name] = f"invalid manifest.json: {exc}".replace("\n", " ")
            continue
        if any(m.name == manifest.name for _, m in found):
            failed[f"{folder.name}"] = f"duplicate model name {manifest.name!r}"
            continue
        found.append((folder, manifest))
    return found, failed


def identity_feeds(model: LoadedModel, max_batch: int) -> Inputs:
    """A generator's proof inputs: the images of seeds 0, 1, ..."""
    return model.feeds_for(model.draws(range(identity_rows(max_batch))))


def load_model(folder: Path, manifest: Manifest, settings: Settings) -> LoadedModel:
    """Verify, open and warm up one model; raises ModelLoadError with the reason it can't be served."""
    started = time.perf_counter()
    session, provider = open_verified(folder / manifest.file, manifest.sha256, settings)
    check_signature(session, manifest)
    model = LoadedModel(manifest, session, provider)
    feeds = identity_feeds(model, settings.max_batch)
    key = proof_key(session, provider, manifest.sha256, feeds, settings)
    shapes = settle_batch_shapes(model.name, model.run, feeds, settings, key)
    model.batch_shapes, model.buckets, model.identity = shapes.batch_shapes, shapes.buckets, shapes.proof
    model.encoder = load_encoder(folder, manifest, settings)
    log_loaded(model.name, provider, shapes.proof, started)
    return model


def log_loaded(name: str, provider: str, proof: IdentityProof, started: float) -> None:
    """The one line per loaded graph: provider, batch shapes, what the identity proof found and cost (proof_ms: 0
    where the proof cache had it), what the proof cache said and did, and the graph's whole load time."""
    log.info(
        "loaded model=%s provider=%s batch_shapes=%s identical=%s proof_sizes=1-%d proof_passes=%d proof_ms=%.0f "
        "proof_cache=%s ms=%.0f",
        name,
        provider,
        proof.shapes,
        proof.identical,
        proof.max_batch,
        proof.passes,
        0 if proof.cached else 1000 * proof.seconds,
        proof.cache,
        1000 * (time.perf_counter() - started),
    )
