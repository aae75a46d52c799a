"""`python -m training import`: serve a generator trained elsewhere, grey or colour (docs/IMPORT.md).

The service feeds every generator the same way: `z` float32 [N, d] drawn as a standard normal from the seed,
`label` int64 [N] (or float32 [N, K] class vectors) for a conditional one, and it reads the first output as
float32 [N, C, H, W] in [-1, 1]. An outside graph rarely says all of that, so the import adapts it, in ONNX,
to that contract: its inputs renamed (`--z-input`, `--label-input`), a uniform latent reached from the served
normal one through the normal CDF (`--latent uniform`: u = erf(z / √2) is U(-1, 1) exactly), its output
range mapped onto [-1, 1] (`--output-range`). Then it runs the adapted graph at several batch sizes on the
service's own seeded inputs and checks what the graph cannot declare: images of 1 or 3 channels, finite, in
range, each row independent of the others in its batch. Only then does the model folder appear (model.onnx,
manifest.json, samples.png), moved into place whole: a refusal is one line and leaves nothing behind.

Needs onnx, onnxruntime, numpy and Pillow only (the service's packages plus onnx); `--module` (a PyTorch
class and its weights) also needs torch and exports through training/export.py first.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from service import sampling
from service.manifest import NAME_PATTERN, Manifest, file_sha256

from .figures import save_grid
from .importgraph import Graph, ImportOptions, ImportRefused

CHECK_BATCHES = (1, 2, 3, 8)  # batch sizes the graph must handle; rows must not depend on their batch
ROW_TOLERANCE = 1e-4  # |image batched - image alone|: float noise of batched kernels, not batch statistics
RANGE_SLACK = 1e-3  # of the declared range's width, so a tanh's rounding at ±1 is not a refusal
GRID_ROWS = 8


def import_onnx(source: Path, out_dir: Path, options: ImportOptions) -> dict[str, Any]:
    """Check and adapt `source`, then write `out_dir/<name>/`; returns the manifest. ImportRefused says why not."""
    if not re.fullmatch(NAME_PATTERN, options.name):
        raise ImportRefused(f"--name {options.name!r}: use letters, digits, '.', '_' and '-' (at most 64)")
    target = out_dir / options.name
    if target.exists() and not options.force:
        raise ImportRefused(f"{target} already exists; --force replaces it")
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".import-{options.name}-", dir=out_dir))  # hidden: the service skips it
    work.chmod(0o755)  # mkdtemp's 0o700 would hide the model from a service run as another user
    try:
        manifest = _build(source, work, options)
        _move_into_place(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


def _move_into_place(work: Path, target: Path) -> None:
    """Rename the finished folder to its name; an old one is renamed aside first, removed after."""
    old = target.with_name(f".{target.name}.replaced") if target.exists() else None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    work.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _build(source: Path, work: Path, options: ImportOptions) -> dict[str, Any]:
    import onnx

    try:
        model = onnx.load(str(source))
    except FileNotFoundError:
        raise ImportRefused(f"{source} does not exist") from None
    except Exception as exc:
        raise ImportRefused(f"{source} is not an ONNX model ({_first_line(exc)})") from None
    graph = Graph(model, options)
    path = work / "model.onnx"
    try:
        onnx.save(graph.adapted(), str(path))
    except ValueError as exc:  # over 2 GB, where ONNX needs external data
        raise ImportRefused(f"the adapted graph cannot be written as one file ({_first_line(exc)})") from None
    images, checks = _check_runs(path, graph)
    save_grid(images, 8, work / "samples.png")
    manifest = graph.manifest(file_sha256(path), checks, source, file_sha256(source))
    Manifest.model_validate(manifest)  # the service's own schema: a refusal here is a bug of this module
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _check_runs(path: Path, graph: Graph) -> tuple[np.ndarray, dict[str, Any]]:
    """Run the adapted graph as the service will; returns the sample grid's images and what was checked."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.use_deterministic_compute = True
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ImportRefused(f"ONNX Runtime cannot load the graph: {_first_line(exc)}") from None

    def run(feeds: dict[str, np.ndarray], what: str) -> np.ndarray:
        try:
            out = session.run(["image"], feeds)[0]
        except Exception as exc:
            raise ImportRefused(f"the graph fails on {what}: {_first_line(exc)}") from None
        n = len(feeds["z"])
        if out.ndim != 4 or out.shape[0] != n:
            raise ImportRefused(f"on {what} the output is {list(out.shape)}; it must be [{n}, C, H, W]")
        if out.shape[1] not in (1, 3):
            raise ImportRefused(f"the output has {out.shape[1]} channels; the service serves grey (1) or RGB (3)")
        if out.dtype != np.float32:
            raise ImportRefused(f"the output is {out.dtype}; it must be float32")
        if not np.isfinite(out).all():
            raise ImportRefused(f"on {what} the output holds NaN or infinite values")
        lo, hi = graph.options.output_range
        low, high = float(out.min()), float(out.max())
        slack = RANGE_SLACK * 2  # the adapted output's range is [-1, 1]
        if low < -1 - slack or high > 1 + slack:
            scale = (hi - lo) / 2
            seen = (lo + (low + 1) * scale, lo + (high + 1) * scale)
            raise ImportRefused(
                f"on {what} the output spans [{seen[0]:.4g}, {seen[1]:.4g}], outside the declared range "
                f"[{lo:g}, {hi:g}]; give the graph's range with --output-range LO HI"
            )
        return out

    largest = max(CHECK_BATCHES)
    feeds = graph.feeds_for(range(largest))
    alone = np.concatenate([run({k: v[i : i + 1] for k, v in feeds.items()}, "batch size 1") for i in range(largest)])
    shape = alone.shape[1:]
    for b in CHECK_BATCHES[1:]:
        batched = run({k: v[:b] for k, v in feeds.items()}, f"batch size {b}")
        if batched.shape[1:] != shape:
            raise ImportRefused(f"the image shape changes with the batch: {list(shape)} alone, {list(batched.shape)}")
        diff = float(np.abs(batched - alone[:b]).max())
        if diff > ROW_TOLERANCE:
            raise ImportRefused(
                f"an image changes with the other images of its batch (by {diff:.3g} at batch size {b}): "
                "batch statistics? export the graph in inference (eval) mode"
            )
    images = _grid_images(graph, run)
    if shape[1] > 4096 or shape[2] > 4096:
        raise ImportRefused(f"the images are {shape[2]}×{shape[1]}; the service serves at most 4096 a side")
    checks = {"checked_batch_sizes": list(CHECK_BATCHES), "image": [int(s) for s in shape]}
    return images, checks


def _grid_images(graph: Graph, run: Any) -> np.ndarray:
    """samples.png: seeds 0..63, or for a conditional model one row per class (the first 8) of seeds 0..7;
    every class is run once too, so a label table shorter than the classes declared is refused here."""
    if graph.num_classes is None:
        return np.asarray(run(graph.feeds_for(range(GRID_ROWS * 8)), "the sample grid (64 images)"))
    every = graph.feeds_for(range(graph.num_classes))
    every["label"] = graph.label_feed(range(graph.num_classes))
    run(every, f"every class 0..{graph.num_classes - 1}")
    rows = min(graph.num_classes, GRID_ROWS)
    feeds = graph.feeds_for([s for _ in range(rows) for s in range(8)])
    feeds["label"] = graph.label_feed(np.repeat(np.arange(rows), 8).tolist())
    return np.asarray(run(feeds, "the sample grid"))


# ---------- the PyTorch path and the command line ----------


def export_torch(spec: str, weights: Path, latent_dim: int, num_classes: int | None, path: Path) -> dict[str, Any]:
    """`package.module:Class` with a state dict → ONNX at `path`, through training/export.py; returns provenance."""
    import torch  # here, not at the top: an ONNX import needs no torch (the serve-only install has none)

    from .export import check_module_parity, export_module

    module_name, _, class_name = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImportRefused(f"--module {spec!r}: {_first_line(exc)}") from None
    net = cls()
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    except FileNotFoundError:
        raise ImportRefused(f"--weights {weights} does not exist") from None
    except (RuntimeError, TypeError, AttributeError, ValueError) as exc:
        raise ImportRefused(f"--weights {weights} do not fit {spec}: {_first_line(exc)}") from None
    net.eval()
    example = {"z": np.stack([d.z for d in sampling.draws([0, 1], latent_dim)])}
    if num_classes:
        example["label"] = np.arange(2, dtype=np.int64) % num_classes
    shown = ", ".join(f"{k} {list(v.shape)}" for k, v in example.items())
    try:  # eager first: a wrong --latent-dim is one line here, where the exporter would log pages
        with torch.no_grad():
            net(**{k: torch.from_numpy(v) for k, v in example.items()})
    except Exception as exc:
        raise ImportRefused(f"--module {spec} fails on {shown}: {_first_line(exc)}") from None
    try:
        export_module(net, example, path)
    except Exception as exc:
        raise ImportRefused(f"--module {spec} cannot be exported to ONNX: {_first_line(exc)}") from None
    parity = check_module_parity(net, path, {k: np.ascontiguousarray(v) for k, v in example.items()})
    return {"module": spec, "weights": weights.name, "parity_max_abs_diff": parity}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `import` subcommand's options (training/__main__.py adds the parser)."""
    p.add_argument("source", nargs="?", type=Path, help="the generator's ONNX file (or give --module)")
    p.add_argument("--name", required=True, help="the served model's name (its folder's)")
    p.add_argument("--out", type=Path, help="where the folder goes (default: --models-dir, exported_models)")
    p.add_argument("--z-input", help="the graph's latent input (default: z, or the only input)")
    p.add_argument("--label-input", help="the graph's class input (default: label, where there is one)")
    p.add_argument("--output", help="the graph's image output (default: its first)")
    p.add_argument("--num-classes", type=int, help="classes of a conditional graph (int64 label)")
    p.add_argument("--class-names", help="comma-separated class names, one per class index")
    p.add_argument(
        "--latent",
        choices=("normal", "uniform", "uniform01"),
        default="normal",
        help="the latent it was trained on: N(0, 1) (default), U(-1, 1) or U(0, 1)",
    )
    p.add_argument(
        "--output-range", nargs=2, type=float, default=(-1.0, 1.0), metavar=("LO", "HI"), help="default: -1 1"
    )
    p.add_argument("--variant", default="imported", help="shown as ModelInfo.variant (e.g. dcgan)")
    p.add_argument("--dataset", default="imported", help="shown as ModelInfo.dataset")
    p.add_argument("--force", action="store_true", help="replace an existing folder of that name")
    p.add_argument("--module", help="PyTorch: package.module:Class, built with no arguments, then --weights")
    p.add_argument("--weights", type=Path, help="PyTorch: the state dict file for --module")
    p.add_argument("--latent-dim", type=int, help="PyTorch: the latent size of --module")


def run(args: argparse.Namespace) -> int:
    """The command: one line on stdout when served, one line on stderr (exit 2) when refused."""
    names = tuple(n.strip() for n in args.class_names.split(",")) if args.class_names else None
    lo, hi = args.output_range
    try:
        if not lo < hi:
            raise ImportRefused(f"--output-range {lo:g} {hi:g}: LO must be below HI")
        options = ImportOptions(
            name=args.name,
            z_input=args.z_input,
            label_input=args.label_input,
            output=args.output,
            num_classes=args.num_classes,
            class_names=names,
            latent=args.latent,
            output_range=(lo, hi),
            variant=args.variant,
            dataset=args.dataset,
            force=args.force,
        )
        out = args.out or Path(args.models_dir)
        if args.module:
            manifest = _import_module(args, options, out)
        elif args.source is None:
            raise ImportRefused("give the ONNX file to import, or --module with --weights")
        else:
            manifest = import_onnx(args.source, out, options)
    except ImportRefused as exc:
        print(f"error: cannot import {args.source or args.module}: {exc}", file=sys.stderr)
        return 2
    image = manifest["image"]
    kind = f"conditional, {manifest['num_classes']} classes" if manifest["conditional"] else "unconditional"
    print(
        f"{manifest['name']}: {image['channels']}×{image['height']}×{image['width']}, latent {manifest['latent_dim']}, "
        f"{kind}, sha256 {manifest['sha256'][:12]} -> {out / manifest['name']}"
    )
    return 0


def _import_module(args: argparse.Namespace, options: ImportOptions, out: Path) -> dict[str, Any]:
    if args.weights is None or args.latent_dim is None:
        raise ImportRefused("--module needs --weights FILE and --latent-dim D")
    try:
        import torch  # noqa: F401
    except ModuleNotFoundError:
        raise ImportRefused("--module needs PyTorch: pip install -e '.[train]'") from None
    classes = len(options.class_names) if options.class_names else options.num_classes
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{options.name}.onnx"
        provenance = export_torch(args.module, args.weights, args.latent_dim, classes, path)
        options = ImportOptions(**{**options.__dict__, "source": provenance})
        return import_onnx(path, out, options)
