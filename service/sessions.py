"""ONNX Runtime sessions of served graphs: opened only from a file whose sha256 its manifest records, on CUDA when
CUDA really works (or is forced), else on CPU, with the options serving needs.

`ModelLoadError` is what every load step raises for a model that cannot be served: the registry, the encoders
and the pipelines all open their graphs here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import onnxruntime as ort

from service.manifest import AnyManifest, file_sha256
from service.settings import Settings

log = logging.getLogger(__name__)

CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"
_ORT_DTYPES = {"tensor(float)": "float32", "tensor(int64)": "int64"}
_QUIET, _ERRORS = 4, 3  # ORT log severities: fatal only / errors


class ModelLoadError(Exception):
    """This model cannot be served (bad file, checksum, signature, provider); others still can."""


class _CudaProbe:
    """Tries CUDA for one graph at a time, with ORT silenced meanwhile.

    ORT's logger severity is process-wide: with graphs loading side by side, one thread's probe ending would
    unsilence another's, which then printed the provider library's load error on a CPU-only machine. Once that
    library has failed to load, it fails for every graph, so later graphs go straight to the CPU.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unavailable = False

    def session(self, path: Path, threads: int) -> ort.InferenceSession | None:
        """A session whose first provider is CUDA, or None."""
        with self._lock:
            if self._unavailable:
                return None
            ort.set_default_logger_severity(_QUIET)
            try:
                sess = ort.InferenceSession(str(path), session_options(threads, _QUIET), providers=[CUDA, CPU])
            except Exception as exc:  # a broken CUDA install must not stop a CPU fallback
                log.debug("CUDA session failed for %s: %s", path, exc)
                return None
            finally:
                ort.set_default_logger_severity(_ERRORS)
            if sess.get_providers()[0] != CUDA:  # ORT fell back: the provider library did not load
                self._unavailable = True
                return None
            return sess


_cuda = _CudaProbe()


def session_options(threads: int, severity: int = _ERRORS) -> ort.SessionOptions:
    """Options for serving: sized thread pool that sleeps when idle, full graph optimisation."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning workers would keep burning the cores the event loop and PNG encoding need.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    so.log_severity_level = severity
    so.use_deterministic_compute = True  # the identity proof and the batcher rely on it (GPU kernels above all)
    return so


def quiet_run_options() -> ort.RunOptions:
    """Run options that keep ORT from printing a failed run: the batcher logs that failure, once."""
    options = ort.RunOptions()
    options.log_severity_level = _QUIET
    return options


def create_session(path: Path, settings: Settings) -> tuple[ort.InferenceSession, str]:
    """A session on CUDA when it really works (or is forced), else on CPU."""
    threads = settings.intra_op_threads()
    if settings.provider in ("auto", "cuda") and CUDA in ort.get_available_providers():
        sess = _cuda.session(path, threads)
        if sess is not None:
            return sess, CUDA
    if settings.provider == "cuda":
        raise ModelLoadError("GAN_PROVIDER=cuda but no session could be created on CUDAExecutionProvider")
    return ort.InferenceSession(str(path), session_options(threads), providers=[CPU]), CPU


def check_signature(session: ort.InferenceSession, manifest: AnyManifest) -> None:
    """The ONNX graph must take exactly the inputs the manifest promises."""
    expected = manifest.expected_inputs()
    got = {i.name: (_ORT_DTYPES.get(i.type, i.type), list(i.shape)) for i in session.get_inputs()}
    want = {name: (dtype, list(shape)) for name, (dtype, shape) in expected.items()}
    agree = got.keys() == want.keys() and all(
        got[k][0] == want[k][0] and _dims_agree(got[k][1], want[k][1]) for k in want
    )
    if not agree:
        raise ModelLoadError(f"ONNX inputs {got} do not match the manifest {want}")


def _dims_agree(got: Sequence[object], want: Sequence[object]) -> bool:
    """Same rank, and equal sizes wherever both name a fixed size (symbolic axes match anything)."""
    return len(got) == len(want) and all(
        g == w for g, w in zip(got, want, strict=True) if isinstance(g, int) and isinstance(w, int)
    )


def open_verified(path: Path, digest: str, settings: Settings) -> tuple[ort.InferenceSession, str]:
    """The session of an ONNX file whose sha256 matches its manifest; ModelLoadError says why not."""
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing")
    got = file_sha256(path)
    if got != digest:
        raise ModelLoadError(f"sha256 of {path.name} is {got}, manifest says {digest}")
    try:
        return create_session(path, settings)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"ONNX Runtime cannot load {path.name}: {exc}") from exc
