"""Arrays computed from fixed inputs, kept on disk between processes: the evaluation classifier's features of the
real images (classifier.real_features), which every training run, evaluation and study needs and which took 10-25 s
per split on one core each time a process started.

An entry is one .npz file holding its key (as JSON) and the arrays; it is used only where the stored key equals the
key asked for, field for field. The caller's key names everything the arrays depend on; this module adds the
machine (CPU model and instruction-set flags pick torch's kernels, so another CPU may differ in the last bits), the
torch version and its thread count. No entry, another key, a corrupt file or a folder that cannot be written means
computing again (and the log says why); a lock makes a second process wait for the first one's result instead of
computing it too.

Where: `GAN_FEATURE_CACHE` if set (empty turns the cache off), else `$XDG_CACHE_HOME/gan-sampling-service/features`
(`~/.cache/...`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from service.proofcache import machine

FORMAT = 1  # bump whenever what a caller computes changes without its key showing it
ENV = "GAN_FEATURE_CACHE"
log = logging.getLogger(__name__)


def directory() -> Path | None:
    """The cache folder, or None where `GAN_FEATURE_CACHE` is set empty."""
    if ENV in os.environ:
        return Path(os.environ[ENV]) if os.environ[ENV] else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gan-sampling-service" / "features"


def array_sha256(a: np.ndarray) -> str:
    """Of an array's values, shape and dtype: what a key holds instead of the array."""
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def full_key(key: dict[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT, "torch": torch.__version__, "threads": torch.get_num_threads(), **machine(), **key}


def cached(key: dict[str, Any], compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """`compute()`'s arrays, read from the cache where this key (with the machine's) was stored before."""
    folder, k = directory(), json.dumps(full_key(key), sort_keys=True)
    if folder is None:
        return compute()
    path = folder / f"{hashlib.sha256(k.encode()).hexdigest()[:32]}.npz"
    with _locked(path) as writable:
        found, why = _read(path, k)
        if found is not None:
            return found
        arrays = compute()
        if writable:
            _write(path, k, arrays)
            log.info("feature cache: %s %s, computed and stored in %s", key.get("what", "arrays"), why, path.name)
        return arrays


@contextmanager
def _locked(path: Path) -> Iterator[bool]:
    """Hold `path`'s lock (yielding True), or yield False where the folder cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(path.with_suffix(".lock"), "a")  # noqa: SIM115 (closed below, after the lock is released)
    except OSError as e:
        log.warning("feature cache: %s cannot be written (%s); computing without it", path.parent, e)
        yield False
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield True


def _read(path: Path, key: str) -> tuple[dict[str, np.ndarray] | None, str]:
    if not path.exists():
        return None, "absent"
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None, "stored under another key"
            return {name: z[name] for name in z.files if name != "key"}, "hit"
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
        return None, f"unreadable ({type(e).__name__})"


def _write(path: Path, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Atomically: a reader sees the old entry or the whole new one, never half."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, key=np.array(key), **arrays)
        os.replace(tmp, path)
    except OSError as e:
        log.warning("feature cache: could not store %s (%s)", path.name, e)
        if tmp:
            Path(tmp).unlink(missing_ok=True)
