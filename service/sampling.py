"""Seeded latent sampling and latent-space maths: pure numpy, no ORT, no HTTP.

Every image owns a seed. Its latent comes from a counter-based generator keyed by that seed
alone (`Philox(seed)`), so `z(seed)` never depends on the batch, the request or the arrival
order. The stream is read in a fixed order: `z`, then the label (conditional models), then
the InfoGAN codes `c_cat` and `c_cont`. Every part is always drawn and a value given by the
client replaces the drawn one, so giving one code never shifts the others.

Truncation (BigGAN's trick, a knob trading variety for fidelity) reads the same stream further: after the
codes, every component of `z` beyond TRUNCATION_BOUND is redrawn until none is, then `z` is scaled by ψ. So
the label and codes of a seed never depend on ψ, and a request without truncation reads exactly what it read
before truncation existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service import streams

SEED_MODULUS = 2**32
TRUNCATION_BOUND = 2.0  # |z_i| <= 2: a standard normal truncated at two standard deviations
# Below this sin(omega) the two latents are (anti)parallel and slerp degenerates to lerp.
_SLERP_EPS = 1e-6


@dataclass(frozen=True)
class Draw:
    """Everything one seed determines: noise and, where the model has them, label and codes."""

    seed: int
    z: np.ndarray  # float32 [latent_dim]
    label: int | None = None
    c_cat: int | None = None
    c_cont: np.ndarray | None = None  # float32 [k]


def rng(seed: int) -> np.random.Generator:
    """The stream of a seed: Philox(seed), the same for every route that reads it."""
    _check(seed)
    return np.random.Generator(np.random.Philox(seed))


def _check(seed: int) -> None:
    if not 0 <= seed < SEED_MODULUS:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")


def draws(
    seeds: Sequence[int],
    latent_dim: int,
    num_classes: int | None = None,
    n_cat: int | None = None,
    n_cont: int = 0,
    truncation: float | None = None,
) -> list[Draw]:
    """`draw` for each seed: the same draws, read through this thread's one reused generator (service/streams.py)."""
    for seed in seeds:
        _check(seed)
    return [
        _read(seed, streams.stream(key), latent_dim, num_classes, n_cat, n_cont, truncation)
        for seed, key in zip(seeds, streams.keys(seeds), strict=True)
    ]


def draw(
    seed: int,
    latent_dim: int,
    num_classes: int | None = None,
    n_cat: int | None = None,
    n_cont: int = 0,
    truncation: float | None = None,
) -> Draw:
    """Draw `z`, then a label (if `num_classes`), then `c_cat` (if `n_cat`) and `c_cont` (if `n_cont`);
    with `truncation` ψ, `z` is then truncated from the rest of the stream and scaled (`truncate`)."""
    return draws([seed], latent_dim, num_classes, n_cat, n_cont, truncation)[0]


def _read(
    seed: int,
    stream: np.random.Generator,
    latent_dim: int,
    num_classes: int | None,
    n_cat: int | None,
    n_cont: int,
    truncation: float | None,
) -> Draw:
    """A seed's draw from its stream, read in the documented order."""
    z = stream.standard_normal(latent_dim, dtype=np.float32)
    label = int(stream.integers(num_classes)) if num_classes else None
    c_cat = int(stream.integers(n_cat)) if n_cat else None
    c_cont = stream.uniform(-1.0, 1.0, n_cont).astype(np.float32) if n_cont else None
    if truncation is not None:
        z = truncate(z, stream, truncation)
    return Draw(seed=seed, z=z, label=label, c_cat=c_cat, c_cont=c_cont)


def truncate(z: np.ndarray, stream: np.random.Generator, psi: float) -> np.ndarray:
    """The truncation trick: while some |z_i| > TRUNCATION_BOUND, redraw those components, in index order,
    as `stream.standard_normal(count, float32)`; then `float32(z * ψ)` (the product taken in float64)."""
    if not 0.0 < psi <= 1.0:
        raise ValueError(f"truncation must be in (0, 1], got {psi}")
    z = z.copy()
    out = np.flatnonzero(np.abs(z) > TRUNCATION_BOUND)
    while out.size:
        z[out] = stream.standard_normal(out.size, dtype=np.float32)
        out = out[np.abs(z[out]) > TRUNCATION_BOUND]
    scaled: np.ndarray = (z.astype(np.float64) * psi).astype(np.float32)
    return scaled


def latent(seed: int, latent_dim: int) -> np.ndarray:
    """`z(seed)`: the first `latent_dim` standard normals of the seed's stream (untruncated)."""
    return draw(seed, latent_dim).z


def seeds_from(seed: int, n: int) -> list[int]:
    """Seeds of the `n` images of one call: `seed + i` wrapped to 32 bits."""
    return [(seed + i) % SEED_MODULUS for i in range(n)]


def frame_times(steps: int) -> list[float]:
    """`t = k / (steps - 1)`: exactly 0.0 first and exactly 1.0 last."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    return [k / (steps - 1) for k in range(steps)]


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Linear interpolation; returns `a` itself at t == 0 and `b` itself at t == 1."""
    if t == 0.0:
        return a
    if t == 1.0:
        return b
    mixed = (1.0 - t) * a.astype(np.float64) + t * b.astype(np.float64)
    return mixed.astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation (White 2016), which keeps Gaussian latents at a typical norm.

    The endpoints are returned as the inputs themselves rather than trusting
    sin(omega)/sin(omega) to round to exactly 1, so they stay bit-identical to `/generate`.
    """
    if t == 0.0:
        return a
    if t == 1.0:
        return b
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if na == 0.0 or nb == 0.0:
        return lerp(a, b, t)
    omega = np.arccos(np.clip(np.dot(a64 / na, b64 / nb), -1.0, 1.0))
    so = np.sin(omega)
    if so < _SLERP_EPS:
        return lerp(a, b, t)
    mixed: np.ndarray = (np.sin((1.0 - t) * omega) / so) * a64 + (np.sin(t * omega) / so) * b64
    return mixed.astype(np.float32)


INTERPOLATORS = {"slerp": slerp, "lerp": lerp}


def interpolate(a: np.ndarray, b: np.ndarray, steps: int, method: str = "slerp") -> list[np.ndarray]:
    """`steps` latents from `a` to `b`; the first is `a` and the last is `b`, bit for bit."""
    fn = INTERPOLATORS[method]
    return [fn(a, b, t) for t in frame_times(steps)]


def mean_latent(zs: Sequence[np.ndarray]) -> np.ndarray:
    """Mean of a concept's exemplar latents; one exemplar is returned unchanged (bit-equal)."""
    if not zs:
        raise ValueError("mean_latent needs at least one latent")
    if len(zs) == 1:
        return zs[0]
    mean: np.ndarray = np.mean(np.stack(zs).astype(np.float64), axis=0)
    return mean.astype(np.float32)


def combine(terms: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    """`sum(weight_j * mean_j)`; a single term of weight 1 returns its mean unchanged."""
    if not terms:
        raise ValueError("combine needs at least one term")
    if len(terms) == 1 and terms[0][0] == 1.0:
        return terms[0][1]
    total = sum(w * m.astype(np.float64) for w, m in terms)
    return np.asarray(total, dtype=np.float32)
