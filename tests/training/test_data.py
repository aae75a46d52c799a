import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest

from training.data import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    VALIDATION_IMAGES,
    DataError,
    load_split,
    read_idx,
    shuffled_batches,
)


def write_idx(path, magic, array, truncate=0):
    raw = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    raw = raw[: len(raw) - truncate]
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


@pytest.mark.parametrize("name", ["x.gz", "x"])
def test_reads_gzip_and_plain(tmp_path, name):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / name, IMAGE_MAGIC, images)
    np.testing.assert_array_equal(read_idx(tmp_path / name, IMAGE_MAGIC), images)


def test_truncated_file_is_rejected(tmp_path):
    write_idx(tmp_path / "x.gz", IMAGE_MAGIC, np.zeros((3, 28, 28), np.uint8), truncate=10)
    with pytest.raises(DataError, match=r"x\.gz is truncated"):
        read_idx(tmp_path / "x.gz", IMAGE_MAGIC)


def test_wrong_magic_is_rejected(tmp_path):
    write_idx(tmp_path / "labels", LABEL_MAGIC, np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="has magic 0x00000801, expected 0x00000803"):
        read_idx(tmp_path / "labels", IMAGE_MAGIC)


def test_corrupt_gzip_is_rejected(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "x.gz", IMAGE_MAGIC)


def test_missing_file_names_the_expected_path(tmp_path):
    (tmp_path / "mnist").mkdir()
    with pytest.raises(DataError, match=r"mnist/train-images-idx3-ubyte\.gz"):
        load_split(tmp_path, "mnist", "train")


def test_cli_reports_missing_data_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "training", "train", "mnist-dcgan", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: missing dataset file")
    assert len(result.stderr.strip().splitlines()) == 1


def test_real_splits(data_dir):
    for dataset in ("mnist", "fashion-mnist"):
        x, y = load_split(data_dir, dataset, "test")
        assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8
        assert sorted(np.unique(y)) == list(range(10))


def test_batches_reproducible_and_sharded():
    a = list(shuffled_batches(100, 10, seed=3, epoch=1))
    assert [b.tolist() for b in a] == [b.tolist() for b in shuffled_batches(100, 10, seed=3, epoch=1)]
    assert np.sort(np.concatenate(a)).tolist() == list(range(100))
    r0 = np.concatenate(list(shuffled_batches(100, 10, 3, 1, rank=0, world=2)))
    r1 = np.concatenate(list(shuffled_batches(100, 10, 3, 1, rank=1, world=2)))
    assert not set(r0) & set(r1)


def test_validation_split_is_held_out_of_gan_training(data_dir):
    """fit + val is the published training split, in order; val is its last VALIDATION_IMAGES images."""
    x, y = load_split(data_dir, "mnist", "train")
    fx, fy = load_split(data_dir, "mnist", "fit")
    vx, vy = load_split(data_dir, "mnist", "val")
    assert len(vx) == VALIDATION_IMAGES and len(fx) + len(vx) == len(x)
    np.testing.assert_array_equal(np.concatenate([fx, vx]), x)
    np.testing.assert_array_equal(np.concatenate([fy, vy]), y)
