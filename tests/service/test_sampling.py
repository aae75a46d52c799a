"""Seeded sampling and latent maths (pure numpy)."""

import numpy as np
import pytest

from service import sampling, streams


def _stream(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.Philox(seed))


def test_z_is_the_philox_stream_of_the_seed():
    rng = _stream(42)
    expected = rng.standard_normal(100, dtype=np.float32)
    d = sampling.draw(42, 100)
    assert d.z.dtype == np.float32 and np.array_equal(d.z, expected)
    assert d.label is None and d.c_cat is None and d.c_cont is None


def test_label_then_codes_follow_z_in_the_same_stream():
    rng = _stream(7)
    z = rng.standard_normal(62, dtype=np.float32)
    label = int(rng.integers(10))
    c_cat = int(rng.integers(10))
    c_cont = rng.uniform(-1, 1, 2).astype(np.float32)
    d = sampling.draw(7, 62, num_classes=10, n_cat=10, n_cont=2)
    assert np.array_equal(d.z, z) and d.label == label and d.c_cat == c_cat
    assert d.c_cont is not None and d.c_cont.dtype == np.float32 and np.array_equal(d.c_cont, c_cont)


def test_z_does_not_depend_on_what_else_is_drawn():
    plain = sampling.latent(5, 16)
    assert np.array_equal(plain, sampling.draw(5, 16, num_classes=10, n_cat=4, n_cont=3).z)


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_seed_out_of_range(seed):
    with pytest.raises(ValueError):
        sampling.draw(seed, 4)


def test_philox_keys_are_those_philox_derives_from_the_seeds():
    seeds = [0, 1, 2**31, 2**32 - 1, *np.random.default_rng(3).integers(0, 2**32, 5000).tolist()]
    expected = np.stack([np.random.Philox(s).state["state"]["key"] for s in seeds])
    assert np.array_equal(streams.philox_keys(seeds), expected)
    assert np.array_equal(np.array([streams.philox_key(s) for s in seeds], dtype=np.uint64), expected)


@pytest.mark.parametrize("n", [1, streams.VECTOR_KEYS_FROM - 1, streams.VECTOR_KEYS_FROM, 64])
def test_draws_are_each_seed_s_own_stream(n):
    """Whether keys come from SeedSequence or the array maths, and with the thread's one reused generator,
    every draw is the one a fresh Philox(seed) gives."""
    seeds = sampling.seeds_from(2**32 - 3, n)
    draws = sampling.draws(seeds, 62, num_classes=10, n_cat=10, n_cont=2, truncation=0.5)
    for d, seed in zip(draws, seeds, strict=True):
        rng = _stream(seed)
        z = rng.standard_normal(62, dtype=np.float32)
        assert d.seed == seed and d.label == int(rng.integers(10)) and d.c_cat == int(rng.integers(10))
        assert d.c_cont is not None and np.array_equal(d.c_cont, rng.uniform(-1, 1, 2).astype(np.float32))
        assert np.array_equal(d.z, sampling.truncate(z, rng, 0.5))


def test_draws_check_every_seed():
    with pytest.raises(ValueError):
        sampling.draws([1, 2**32], 4)


def test_seeds_wrap_at_2_32():
    assert sampling.seeds_from(2**32 - 2, 4) == [2**32 - 2, 2**32 - 1, 0, 1]


def test_frame_times_hit_the_endpoints_exactly():
    ts = sampling.frame_times(7)
    assert ts[0] == 0.0 and ts[-1] == 1.0 and len(ts) == 7
    with pytest.raises(ValueError):
        sampling.frame_times(1)


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_interpolation_endpoints_are_the_inputs(method):
    a, b = sampling.latent(1, 100), sampling.latent(2, 100)
    frames = sampling.interpolate(a, b, 9, method)
    assert frames[0] is a and frames[-1] is b
    assert all(f.dtype == np.float32 and f.shape == (100,) for f in frames)


def test_slerp_keeps_the_norm_and_lerp_shrinks_it():
    a, b = sampling.latent(1, 512), sampling.latent(2, 512)  # nearly orthogonal, similar norms
    mid_s, mid_l = sampling.slerp(a, b, 0.5), sampling.lerp(a, b, 0.5)
    na = np.linalg.norm(a)
    assert abs(np.linalg.norm(mid_s) - na) / na < 0.05
    assert np.linalg.norm(mid_l) < 0.8 * na


def test_slerp_of_parallel_latents_falls_back_to_lerp():
    a = sampling.latent(3, 8)
    assert np.allclose(sampling.slerp(a, 2 * a, 0.5), 1.5 * a)
    zero = np.zeros(8, np.float32)
    assert np.allclose(sampling.slerp(zero, a, 0.25), 0.25 * a)


def test_mean_of_one_latent_is_bit_equal():
    z = sampling.latent(9, 100)
    assert sampling.mean_latent([z]) is z
    assert np.array_equal(sampling.mean_latent([z, z]), z)  # (x + x) / 2 is exact


def test_combine_is_the_weighted_sum_of_means():
    a, b = sampling.latent(1, 10), sampling.latent(2, 10)
    assert sampling.combine([(1.0, a)]) is a
    out = sampling.combine([(1.0, a), (-0.5, b)])
    assert out.dtype == np.float32 and np.allclose(out, a - 0.5 * b, atol=1e-6)
    with pytest.raises(ValueError):
        sampling.combine([])
    with pytest.raises(ValueError):
        sampling.mean_latent([])
