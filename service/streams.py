"""Philox streams of seeds, cheaply: the key `Philox(seed)` would derive, set on a reused generator.

`np.random.Generator(np.random.Philox(seed))` costs about 10 µs, most of it hashing the seed through a
SeedSequence and building objects; an n=64 request paid that 64 times on the event loop. The keys here are
bit-identical to Philox's own (tests/service/test_sampling.py checks thousands of seeds, and that every
draw equals a fresh Philox's), so every image keeps its bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

# numpy's SeedSequence (numpy/random/bit_generator.pyx), which `Philox(seed)` hashes its seed with into its key.
_POOL_SIZE, _KEY_WORDS, _XSHIFT, _M32 = 4, 4, 16, 0xFFFFFFFF
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
VECTOR_KEYS_FROM = 16  # below this many seeds, numpy's own SeedSequence per seed is quicker than the array maths


def _multipliers(init: int, mult: int, count: int) -> list[tuple[int, int]]:
    """(xor, multiply) constants of SeedSequence's successive hash steps: they never depend on the data."""
    steps, const = [], init
    for _ in range(count):
        xor, const = const, const * mult & _M32
        steps.append((xor, const))
    return steps


_MIX_STEPS = _multipliers(0x43B0D7E5, 0x931E8875, _POOL_SIZE * _POOL_SIZE)  # 4 to fill the pool, 12 to mix it
_KEY_STEPS = _multipliers(0x8B51F9DD, 0x58F38DED, _KEY_WORDS)


def _hash(value: np.ndarray, step: tuple[int, int]) -> np.ndarray:
    xor, mult = step
    value = (value ^ xor) * mult  # uint32 arrays: wraps modulo 2**32, as SeedSequence's C does
    return value ^ (value >> _XSHIFT)


def philox_keys(seeds: Sequence[int]) -> np.ndarray:
    """The key [n, 2] uint64 `Philox(seed)` derives for each seed in [0, 2**32), all seeds at once.

    SeedSequence(seed) hashes the seed's one 32-bit word into a pool of four, mixes the pool and draws the
    key's four 32-bit words from it. Its constants never depend on the data, so numpy arrays over the seeds
    replay each step for every seed together: at n=64 about a quarter of the time of
    `SeedSequence(seed).generate_state` per seed (tests/service/test_sampling.py compares them on many seeds).
    """
    steps = iter(_MIX_STEPS)
    entropy = np.asarray(seeds, dtype=np.uint32)
    zeros = np.zeros_like(entropy)
    pool = [_hash(entropy if i == 0 else zeros, next(steps)) for i in range(_POOL_SIZE)]
    for src in range(_POOL_SIZE):
        for dst in range(_POOL_SIZE):
            if src != dst:
                mixed = _MIX_L * pool[dst] - _MIX_R * _hash(pool[src], next(steps))
                pool[dst] = mixed ^ (mixed >> _XSHIFT)
    words = np.empty((len(entropy), _KEY_WORDS), dtype=np.uint32)
    for i, step in enumerate(_KEY_STEPS):
        words[:, i] = _hash(pool[i % _POOL_SIZE], step)
    return words.astype("<u4").view("<u8").astype(np.uint64)


def philox_key(seed: int) -> tuple[int, int]:
    """`Philox(seed)`'s key from numpy's own SeedSequence pool: `generate_state` runs the same four hash steps
    under an `np.errstate` context that costs more than the hashing (about 2 of its 6 µs)."""
    words = []
    for word, (xor, mult) in zip(np.random.SeedSequence(seed).pool.tolist(), _KEY_STEPS, strict=True):
        value = (word ^ xor) * mult & _M32
        words.append(value ^ (value >> _XSHIFT))
    return words[0] | words[1] << 32, words[2] | words[3] << 32


def keys(seeds: Sequence[int]) -> list[np.ndarray | tuple[int, int]]:
    """The Philox key of each seed, computed whichever way is quicker for this many seeds."""
    if len(seeds) >= VECTOR_KEYS_FROM:
        return list(philox_keys(seeds))
    return [philox_key(seed) for seed in seeds]


_ZEROS = np.zeros(4, dtype=np.uint64)
_local = threading.local()


def stream(key: np.ndarray | tuple[int, int]) -> np.random.Generator:
    """This thread's one Generator, set to the start of the Philox stream of `key`: the numbers of
    `Philox(seed)` without building a Philox, its SeedSequence and a Generator for every seed. Whoever reads
    it must be done before the thread's next call (`sampling.draws` reads each stream at once)."""
    generator: np.random.Generator | None = getattr(_local, "generator", None)
    if generator is None:
        generator = _local.generator = np.random.Generator(np.random.Philox(0))
    generator.bit_generator.state = {
        "bit_generator": "Philox",
        "state": {"counter": _ZEROS, "key": key},
        "buffer": _ZEROS,
        "buffer_pos": 4,  # buffer used up: the next draw starts at counter 0, as in a new Philox
        "has_uint32": 0,
        "uinteger": 0,
    }
    return generator
