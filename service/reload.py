"""Hot reload: what must change to make the served models match the models directory.

`scan()` reads the directory (manifests, and a digest of each ONNX file); the pure `plan()` compares
that with the served manifests. A file replaced under an unchanged manifest counts as changed, so the
integrity check at load refuses it. `ServiceState.reload()` carries the plan out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service.manifest import Manifest, file_sha256
from service.registry import discover

Found = list[tuple[Path, Manifest, str | None]]  # folder, manifest, digest of its ONNX file (None: unreadable)


@dataclass
class Plan:
    """Models to load (new or changed), to stop serving, and to leave alone."""

    load: list[tuple[Path, Manifest]] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)


def _digest(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


def scan(models_dir: Path) -> tuple[Found, dict[str, str]]:
    """Valid manifests with their files' digests, and why the other folders are not servable (blocking I/O)."""
    found, failed = discover(models_dir)
    return [(folder, m, _digest(folder / m.file)) for folder, m in found], failed


def plan(served: Mapping[str, Manifest], found: Found) -> Plan:
    """Load what is new or differs from what is served, remove what has left the directory."""
    out = Plan()
    for folder, manifest, digest in found:
        current = served.get(manifest.name)
        if current is not None and current == manifest and digest == manifest.sha256:
            out.keep.append(manifest.name)
        else:
            out.load.append((folder, manifest))
    on_disk = {manifest.name for _, manifest, _ in found}
    out.remove = sorted(name for name in served if name not in on_disk)
    return out
