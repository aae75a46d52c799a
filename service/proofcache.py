"""The proof cache: a graph proven on this machine with these settings is not proven again at the next start.

The identity proof (proof.prove_identity) is most of start-up, and its result depends only on what the key
holds: the graph (its sha256), the proof's inputs, ONNX Runtime (version and build), the execution provider and
its options, the CPU (model and instruction-set flags) or GPU, GAN_MAX_BATCH, the batch-shape mode and the thread
settings. An entry is one JSON file holding that key and the result; it is used only where its key equals the
key computed now, field for field. Anything else (no entry, a key that differs, a corrupt or foreign file, a
directory that cannot be written) means proving again, and the load log line says which (`proof_cache=`).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnxruntime as ort

FORMAT = 1  # bump whenever the proof itself changes (passes, rows, session options), so old entries stop matching

Key = dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    """What a proof found, as an entry stores it."""

    shapes: Literal["dynamic", "fixed"]
    buckets: tuple[int, ...] | None
    identical: bool
    passes: int
    seconds: float  # what the proof took when it ran


@functools.cache
def machine() -> dict[str, str]:
    """The CPU (model and instruction-set flags, which pick ORT's kernels) and any NVIDIA GPU models."""
    info = {"arch": platform.machine(), "cpu": "", "cpu_flags": "", "gpu": ""}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name" and not info["cpu"]:
                info["cpu"] = value.strip()
            elif name.strip() in ("flags", "Features") and not info["cpu_flags"]:
                info["cpu_flags"] = " ".join(sorted(value.split()))
    except OSError:
        info["cpu"] = platform.processor()
    gpus = sorted(Path("/proc/driver/nvidia/gpus").glob("*/information"))
    with_model = [next((x for x in _lines(g) if x.startswith("Model:")), "") for g in gpus]
    info["gpu"] = "; ".join(m.removeprefix("Model:").strip() for m in with_model)
    return info


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def inputs_sha256(feeds: dict[str, np.ndarray]) -> str:
    """The proof's inputs (a model's seeds, a translator's bank), name, dtype, shape and bytes."""
    h = hashlib.sha256()
    for name in sorted(feeds):
        arr = np.ascontiguousarray(feeds[name])
        h.update(f"{name}:{arr.dtype.str}:{arr.shape};".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def key(
    session: ort.InferenceSession,
    provider: str,
    graph_sha256: str,
    feeds: dict[str, np.ndarray],
    max_batch: int,
    batch_shapes: str,
    intra_op_threads: int,
) -> Key:
    """Everything the proof's result depends on."""
    build = ort.get_build_info() if hasattr(ort, "get_build_info") else ""
    options = session.get_provider_options().get(provider, {})
    return {
        "format": FORMAT,
        "graph_sha256": graph_sha256,
        "inputs_sha256": inputs_sha256(feeds),
        "onnxruntime": ort.__version__,
        "onnxruntime_build": build,
        "provider": provider,
        "provider_options": {k: str(v) for k, v in sorted(options.items())},
        **machine(),
        "max_batch": max_batch,
        "batch_shapes": batch_shapes,
        "intra_op_threads": intra_op_threads,
        "inter_op_threads": 1,
    }


def _digest(k: Key) -> str:
    return hashlib.sha256(json.dumps(k, sort_keys=True).encode()).hexdigest()


def entry_path(directory: Path, k: Key) -> Path:
    """`<graph sha256>-<key sha256>.json` (prefixes): one graph's entries sit side by side, so a miss can say
    which fields differ from the nearest one."""
    return directory / f"{k['graph_sha256'][:16]}-{_digest(k)[:16]}.json"


def lookup(directory: Path, k: Key) -> tuple[Recorded | None, str]:
    """The recorded result for this key, or None and why not (for the load log)."""
    path = entry_path(directory, k)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None, _why_absent(directory, k)
    except OSError as exc:
        return None, f"miss(unreadable:{errno.errorcode.get(exc.errno or 0, 'error')})"
    try:
        entry = json.loads(text)
        stored, result = entry["key"], entry["result"]
        buckets = result["buckets"]
        recorded = Recorded(
            shapes=result["shapes"],
            buckets=None if buckets is None else tuple(int(b) for b in buckets),
            identical=result["identical"],
            passes=int(result["passes"]),
            seconds=float(result["seconds"]),
        )
        valid = recorded.shapes in ("dynamic", "fixed") and isinstance(recorded.identical, bool)
    except (ValueError, KeyError, TypeError):
        return None, "miss(corrupt)"
    if not valid:
        return None, "miss(corrupt)"
    if stored != k:
        return None, "miss(foreign)"  # a file under this name whose key is another's
    return recorded, "hit"


def _why_absent(directory: Path, k: Key) -> str:
    """`miss(absent)`, or which fields differ from the closest entry of the same graph."""
    nearest: list[str] | None = None
    for other in directory.glob(f"{k['graph_sha256'][:16]}-*.json"):
        try:
            stored = json.loads(other.read_text())["key"]
            differ = sorted(f for f in k.keys() | stored.keys() if k.get(f) != stored.get(f))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if nearest is None or len(differ) < len(nearest):
            nearest = differ
    return f"miss(differs:{','.join(nearest)})" if nearest else "miss(absent)"


def store(directory: Path, k: Key, recorded: Recorded) -> str:
    """Record a proof (write to a temporary file, then rename: readers never see half an entry); what happened,
    for the load log. A directory that cannot be written only costs the next start its proof."""
    entry = {
        "key": k,
        "result": {
            "shapes": recorded.shapes,
            "buckets": None if recorded.buckets is None else list(recorded.buckets),
            "identical": recorded.identical,
            "passes": recorded.passes,
            "seconds": round(recorded.seconds, 4),
        },
    }
    partial: str | None = None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".tmp", delete=False) as out:
            partial = out.name
            json.dump(entry, out, indent=1, sort_keys=True)
        os.replace(partial, entry_path(directory, k))
    except OSError as exc:
        if partial is not None:
            Path(partial).unlink(missing_ok=True)
        # Named by errno, not strerror: an unwritable cache is expected (a read-only root) and no error.
        return f"unwritable:{errno.errorcode.get(exc.errno or 0, 'error')}"
    return "stored"
