"""The identity proof: batching changes no bit of any image.

The identity proof (`prove_identity`) is what lets the batcher merge requests: at start-up every batch
size the batcher can send, 1 to `GAN_MAX_BATCH`, is run twice with deterministic compute on, and each
row must equal the same row run alone, bit for bit. A model that fails it is run at one fixed, padded
batch shape instead, proven the same way; one that fails both is not served.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import onnxruntime as ort

from service import proofcache
from service.batcher import Inputs, bucket_size, pad_rows
from service.sessions import ModelLoadError
from service.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdentityProof:
    """What the start-up proof found (ModelInfo.identity, the load log line)."""

    shapes: Literal["dynamic", "fixed"]  # exact batch sizes, or every run padded to the fixed shape
    max_batch: int  # every batch size from 1 to this was run
    passes: int
    identical: bool  # every row equal to the same row run alone, in every pass
    seconds: float  # what the proof took when it ran (at this start, or when the proof cache recorded it)
    cached: bool = False  # found in the proof cache (GAN_PROOF_CACHE_DIR), not run at this start
    cache: str = "off"  # what the proof cache said and did, for the load log (service/proofcache.py)


@dataclass(frozen=True)
class BatchShapes:
    """How the batcher runs a model, and the proof that justifies it."""

    batch_shapes: Literal["dynamic", "fixed"]
    buckets: tuple[int, ...] | None  # the padded batch sizes when fixed
    proof: IdentityProof


def identity_rows(max_batch: int) -> int:
    """Rows the proof needs: batch size b runs rows b-1 .. 2b-2, so rows also change place between sizes."""
    return 2 * max_batch - 1


def prove_identity(
    run: Callable[[Inputs], np.ndarray],
    feeds: Inputs,
    max_batch: int,
    buckets: Sequence[int] | None = None,
    passes: int = 2,
) -> bool:
    """Whether every batch size 1..max_batch (padded to `buckets` as the batcher pads) gives each row the
    bits it gets alone, in each of `passes` passes. `feeds` holds `identity_rows(max_batch)` rows."""

    def rows(lo: int, hi: int) -> np.ndarray:
        part = {k: v[lo:hi] for k, v in feeds.items()}
        return run(pad_rows(part, bucket_size(hi - lo, buckets)))[: hi - lo]

    alone = np.concatenate([rows(i, i + 1) for i in range(identity_rows(max_batch))])
    return all(
        np.array_equal(rows(b - 1, 2 * b - 1), alone[b - 1 : 2 * b - 1])
        for _ in range(passes)
        for b in range(1, max_batch + 1)
    )


def settle_batch_shapes(
    name: str,
    run: Callable[[Inputs], np.ndarray],
    feeds: Inputs,
    settings: Settings,
    cache_key: proofcache.Key | None = None,
) -> BatchShapes:
    """What the proof cache recorded under `cache_key`, else the proof's verdict (recorded there): exact batch
    sizes when the proof holds for them, else one fixed padded shape when it holds for that (GAN_BATCH_SHAPES
    forces either); ModelLoadError when neither holds or a run fails."""
    directory = settings.proof_cache_dir
    if directory is None or cache_key is None:
        return _prove_batch_shapes(name, run, feeds, settings)
    found, why = proofcache.lookup(directory, cache_key)
    if found is not None:
        proof = IdentityProof(found.shapes, settings.max_batch, found.passes, found.identical, found.seconds, True, why)
        return BatchShapes(found.shapes, found.buckets, proof)
    shapes = _prove_batch_shapes(name, run, feeds, settings)
    p = shapes.proof
    recorded = proofcache.Recorded(p.shapes, shapes.buckets, p.identical, p.passes, p.seconds)
    done = proofcache.store(directory, cache_key, recorded)
    proof = IdentityProof(p.shapes, p.max_batch, p.passes, p.identical, p.seconds, False, f"{why},{done}")
    return BatchShapes(shapes.batch_shapes, shapes.buckets, proof)


def proof_key(
    session: ort.InferenceSession, provider: str, digest: str, feeds: Inputs, settings: Settings
) -> proofcache.Key:
    """The proof cache's key for one graph served with these settings."""
    return proofcache.key(
        session, provider, digest, feeds, settings.max_batch, settings.batch_shapes, settings.intra_op_threads()
    )


def _prove_batch_shapes(
    name: str, run: Callable[[Inputs], np.ndarray], feeds: Inputs, settings: Settings
) -> BatchShapes:
    """Run the proof: dynamic batches first, then the fixed shape (unless GAN_BATCH_SHAPES forces one)."""
    size = settings.max_batch
    order: list[Literal["dynamic", "fixed"]] = ["dynamic", "fixed"]
    if settings.batch_shapes != "auto":
        order = [settings.batch_shapes]
    for shapes in order:
        buckets = (size,) if shapes == "fixed" else None
        started = time.perf_counter()
        try:
            identical = prove_identity(run, feeds, size, buckets)
        except Exception as exc:
            raise ModelLoadError(f"warm-up run failed: {exc}") from exc
        proof = IdentityProof(shapes, size, 2, identical, time.perf_counter() - started)
        if identical or settings.batch_shapes != "auto":
            if not identical:
                log.warning("%s: outputs differ between batch sizes or runs; %s batches as forced", name, shapes)
            return BatchShapes(shapes, buckets, proof)
        log.warning("%s: outputs depend on the batch size; trying fixed batches of %d", name, size)
    raise ModelLoadError(f"outputs are not deterministic even at a fixed batch of {size} rows")
