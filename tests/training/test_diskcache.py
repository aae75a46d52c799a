"""training/diskcache.py: a hit gives the stored arrays to the bit without computing; any other key, a corrupt or
foreign entry, or a folder that cannot be written means computing again; two at once compute once."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest
import torch

from training import diskcache
from training.classifier import classify, load_classifier, real_features
from training.data import load_split, to_tensor


class Counting:
    def __init__(self, seconds: float = 0.0) -> None:
        self.calls, self.seconds = 0, seconds

    def __call__(self) -> dict[str, np.ndarray]:
        self.calls += 1
        time.sleep(self.seconds)
        return {"a": np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "b": np.array([3, 1], np.int64)}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(diskcache.ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def entries(folder):
    return sorted(folder.glob("*.npz"))


def test_a_hit_gives_the_stored_arrays_without_computing(cache, caplog):
    compute = Counting()
    with caplog.at_level(logging.INFO, logger="training.diskcache"):
        first = diskcache.cached({"what": "t", "n": 1}, compute)
    assert "t absent, computed and stored" in caplog.text
    again = diskcache.cached({"what": "t", "n": 1}, compute)
    assert compute.calls == 1 and len(entries(cache)) == 1
    assert first.keys() == again.keys() == {"a", "b"}
    for name in first:
        assert again[name].dtype == first[name].dtype and np.array_equal(again[name], first[name])


def test_another_key_or_thread_count_computes_again(cache, monkeypatch):
    compute = Counting()
    diskcache.cached({"n": 1}, compute)
    diskcache.cached({"n": 2}, compute)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(threads + 1)  # another thread count may round differently: another entry
        diskcache.cached({"n": 1}, compute)
    finally:
        torch.set_num_threads(threads)
    monkeypatch.setattr(diskcache, "FORMAT", diskcache.FORMAT + 1)
    diskcache.cached({"n": 1}, compute)
    assert compute.calls == 4 and len(entries(cache)) == 4


def test_a_corrupt_entry_is_computed_again_and_replaced(cache, caplog):
    compute = Counting()
    diskcache.cached({"n": 1}, compute)
    (entry,) = entries(cache)
    entry.write_bytes(entry.read_bytes()[:100])
    with caplog.at_level(logging.INFO, logger="training.diskcache"):
        got = diskcache.cached({"n": 1}, compute)
    assert "unreadable" in caplog.text and compute.calls == 2
    assert np.array_equal(got["a"], Counting()()["a"])
    diskcache.cached({"n": 1}, compute)
    assert compute.calls == 2, "the replaced entry is a hit"


def test_an_entry_of_another_key_under_this_name_is_not_used(cache, caplog):
    diskcache.cached({"n": 1}, Counting())
    diskcache.cached({"n": 2}, Counting())
    one, two = entries(cache)
    two.write_bytes(one.read_bytes())
    compute = Counting()
    with caplog.at_level(logging.INFO, logger="training.diskcache"):
        diskcache.cached({"n": 1}, compute)
        diskcache.cached({"n": 2}, compute)
    assert compute.calls == 1 and "stored under another key" in caplog.text


def test_a_folder_that_cannot_be_written_computes_every_time(tmp_path, monkeypatch, caplog):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv(diskcache.ENV, str(tmp_path / "file" / "cache"))
    compute = Counting()
    with caplog.at_level(logging.WARNING, logger="training.diskcache"):
        got = diskcache.cached({"n": 1}, compute)
        diskcache.cached({"n": 1}, compute)
    assert compute.calls == 2 and "cannot be written" in caplog.text
    assert np.array_equal(got["b"], [3, 1])


def test_an_empty_setting_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv(diskcache.ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    compute = Counting()
    diskcache.cached({"n": 1}, compute)
    diskcache.cached({"n": 1}, compute)
    assert compute.calls == 2 and not list(tmp_path.rglob("*"))


def test_the_default_folder_is_under_the_users_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(diskcache.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert diskcache.directory() == tmp_path / "gan-sampling-service" / "features"


def test_two_at_once_compute_once(cache):
    compute, results = Counting(seconds=0.5), []
    workers = [threading.Thread(target=lambda: results.append(diskcache.cached({"n": 1}, compute))) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert compute.calls == 1 and np.array_equal(results[0]["a"], results[1]["a"])


def test_real_features_are_the_classifiers_to_the_bit(cache, data_dir):
    images = load_split(data_dir, "mnist", "test")[0][:300]
    feats, predicted = classify(load_classifier("mnist"), to_tensor(images))
    for _ in range(2):  # computed and stored, then read
        got = real_features("mnist", images)
        assert np.array_equal(got["features"], feats) and np.array_equal(got["predicted"], predicted)
    assert len(entries(cache)) == 1
    changed = images.copy()
    changed[0, 14, 14] ^= 1
    real_features("mnist", changed)
    with_radii = real_features("mnist", images, radii=True)
    assert len(entries(cache)) == 3, "one pixel, or asking for the radii, is another entry"
    assert with_radii["radii"].shape == (300,) and np.array_equal(with_radii["features"], feats)
