"""Served models that are not latent generators: translators (CycleGAN) and text-to-image (StackGAN).

Each ONNX graph is wrapped in a `Runner`, which has what the batcher and `ServiceState.sample` need
from a model (a `name`, `run`, the manifest's `inputs`), so these graphs batch, queue, time out and
report metrics exactly as generators do. A translator has one runner per direction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort

from service import sampling, text
from service.batcher import Inputs
from service.errors import InputError
from service.manifest import AnyManifest, TensorSpec, TextToImageManifest, TranslatorManifest, file_sha256
from service.proof import IdentityProof, identity_rows, proof_key, settle_batch_shapes
from service.registry import log_loaded
from service.sessions import ModelLoadError, check_signature, open_verified, quiet_run_options
from service.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Signature:
    """The part of a manifest `Lanes._lane` compares across reloads."""

    inputs: list[TensorSpec]


@dataclass(eq=False)
class Runner:
    """One ONNX session behind one batcher; `run` returns the batch's first output, or the outputs
    joined on the channel axis when `joined` (Stage-I images upsampled to the final size)."""

    name: str
    session: ort.InferenceSession
    provider: str
    manifest: _Signature
    joined: bool = False
    batch_shapes: Literal["dynamic", "fixed"] = "dynamic"
    buckets: tuple[int, ...] | None = None
    identity: IdentityProof | None = None  # set by load_pipeline
    digest: str = ""  # the graph's sha256 (the proof cache's key)
    output_names: list[str] = field(init=False)
    _run_options: ort.RunOptions = field(init=False, default_factory=quiet_run_options)

    def __post_init__(self) -> None:
        outputs = [o.name for o in self.session.get_outputs()]
        self.output_names = outputs if self.joined else outputs[:1]

    def run(self, inputs: Inputs) -> np.ndarray:
        outs = self.session.run(self.output_names, inputs, self._run_options)
        if len(outs) == 1:
            return np.asarray(outs[0])
        size = outs[0].shape[-1]
        scaled = [np.repeat(np.repeat(o, size // o.shape[-1], axis=2), size // o.shape[-1], axis=3) for o in outs]
        return np.concatenate(scaled, axis=1)


def to_model_range(pixels: np.ndarray) -> np.ndarray:
    """uint8 [K, H, W] → float32 [K, 1, H, W] in [-1, 1], the inverse of imaging.to_uint8."""
    return (pixels.astype(np.float32) / np.float32(127.5) - np.float32(1.0))[:, None]


@dataclass(eq=False)
class Direction:
    """One way of a translator: its runner and its bank of source-domain test images."""

    key: str
    source: str
    target: str
    runner: Runner
    bank: np.ndarray  # uint8 [K, H, W]

    def bank_index(self, seed: int) -> int:
        """The bank image a seed picks: the first draw of the seed's stream (docs/API.md)."""
        return int(sampling.rng(seed).integers(len(self.bank)))


@dataclass(eq=False)
class LoadedTranslator:
    manifest: TranslatorManifest
    directions: dict[str, Direction]

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def provider(self) -> str:
        return next(iter(self.directions.values())).runner.provider

    def direction(self, key: str) -> Direction:
        if key not in self.directions:
            raise InputError("direction", f"model {self.name!r} translates {sorted(self.directions)}, not {key!r}")
        return self.directions[key]

    def runners(self) -> list[Runner]:
        return [d.runner for d in self.directions.values()]


@dataclass(eq=False)
class LoadedTextToImage:
    manifest: TextToImageManifest
    runner: Runner

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def provider(self) -> str:
        return self.runner.provider

    def tokenize(self, caption: str) -> tuple[np.ndarray, list[str], list[str]]:
        """Token ids [max_tokens], the known words used, the unknown words; 422 when nothing is known or
        the known words do not fit."""
        t = self.manifest.text
        ids, unknown = text.tokenize(caption, t.vocabulary, t.max_tokens, t.pad)
        known = [w for w in text.words(caption) if w not in unknown]
        if not text.words(caption):
            raise InputError("text", "the text holds no word (words are runs of the letters a-z)")
        if not known:
            raise InputError("text", f"no word of the text is in the vocabulary; unknown: {unknown}")
        if len(known) > t.max_tokens:
            raise InputError("text", f"{len(known)} known words; this model reads at most {t.max_tokens}")
        return ids, known, unknown

    def feeds(self, tokens: np.ndarray, seeds: list[int]) -> Inputs:
        """Inputs for one caption and consecutive seeds: seed s draws z, then eps, from its stream."""
        m = self.manifest
        zs, eps = [], []
        for s in seeds:
            r = sampling.rng(s)
            zs.append(r.standard_normal(m.latent_dim, dtype=np.float32))
            eps.append(r.standard_normal(m.c_dim, dtype=np.float32))
        return {"tokens": np.repeat(tokens[None], len(seeds), axis=0), "z": np.stack(zs), "eps": np.stack(eps)}

    def split(self, joined: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The runner's joined output → final images [N, C, H, W] and Stage-I images at their own size."""
        c = self.manifest.image.channels
        low_size = self.manifest.outputs[1].shape[-1] if len(self.manifest.outputs) > 1 else joined.shape[-1]
        step = joined.shape[-1] // int(low_size)
        return joined[:, :c], joined[:, c : 2 * c, ::step, ::step]

    def runners(self) -> list[Runner]:
        return [self.runner]


Pipeline = LoadedTranslator | LoadedTextToImage


def _runner(name: str, path: Path, digest: str, manifest: AnyManifest, settings: Settings, joined: bool) -> Runner:
    """Verify and open one ONNX file, check its inputs, and pick dynamic or fixed batches as generators do."""
    session, provider = open_verified(path, digest, settings)
    check_signature(session, manifest)
    return Runner(name, session, provider, _Signature(list(manifest.inputs)), joined, digest=digest)


def _settle_batching(runner: Runner, feeds: Inputs, settings: Settings, started: float) -> None:
    """Prove byte identity over every batch size, as for generators (or find it in the proof cache), and pick
    dynamic or fixed batches."""
    key = proof_key(runner.session, runner.provider, runner.digest, feeds, settings)
    shapes = settle_batch_shapes(runner.name, runner.run, feeds, settings, key)
    runner.batch_shapes, runner.buckets, runner.identity = shapes.batch_shapes, shapes.buckets, shapes.proof
    log_loaded(runner.name, runner.provider, shapes.proof, started)


def load_pipeline(folder: Path, manifest: TranslatorManifest | TextToImageManifest, settings: Settings) -> Pipeline:
    """Verify, open and warm up a translator or text-to-image model; ModelLoadError says why it can't be served."""
    rows = identity_rows(settings.max_batch)
    if isinstance(manifest, TranslatorManifest):
        directions = {}
        for key, d in manifest.directions.items():
            started = time.perf_counter()
            runner = _runner(f"{manifest.name}:{key}", folder / d.file, d.sha256, manifest, settings, joined=False)
            bank_path = folder / d.bank
            if not bank_path.is_file() or file_sha256(bank_path) != d.bank_sha256:
                raise ModelLoadError(f"{d.bank} is missing or does not match its bank_sha256")
            bank = np.load(bank_path, allow_pickle=False)
            img = manifest.image
            if bank.dtype != np.uint8 or bank.ndim != 3 or bank.shape[1:] != (img.height, img.width) or not len(bank):
                raise ModelLoadError(f"{d.bank}: expected uint8 [K, {img.height}, {img.width}], got {bank.shape}")
            sources = to_model_range(bank[np.arange(rows) % len(bank)])  # the bank, repeated if it is short
            _settle_batching(runner, {"source": sources}, settings, started)
            directions[key] = Direction(key, d.source, d.target, runner, bank)
        return LoadedTranslator(manifest, directions)
    started = time.perf_counter()
    runner = _runner(manifest.name, folder / manifest.file, manifest.sha256, manifest, settings, joined=True)
    model = LoadedTextToImage(manifest, runner)
    tokens = np.arange(manifest.text.max_tokens, dtype=np.int64) % len(manifest.text.vocabulary)  # any valid ids
    _settle_batching(runner, model.feeds(tokens, list(range(rows))), settings, started)
    return model
