"""An outside ONNX generator read against the service's signature (`z` [N, d], `label`, an image in [-1, 1]), refused
in one line where it cannot meet it, and the adapted copy that does (docs/IMPORT.md); importer.py runs the checks
the graph cannot declare and writes the model folder."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from service import sampling

Latent = Literal["normal", "uniform", "uniform01"]
INT_TYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool"}


class ImportRefused(Exception):
    """This graph cannot be served as it is; the message says why, in one line."""


@dataclass(frozen=True)
class ImportOptions:
    """What the graph cannot say about itself."""

    name: str
    z_input: str | None = None  # default: "z", or the graph's only input
    label_input: str | None = None  # default: "label" where the graph has one
    output: str | None = None  # default: the graph's first output
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None
    latent: Latent = "normal"
    output_range: tuple[float, float] = (-1.0, 1.0)
    variant: str = "imported"
    dataset: str = "imported"
    force: bool = False  # replace an existing folder of that name
    source: dict[str, Any] = field(default_factory=dict)  # extra provenance for the manifest (the --module path)


@dataclass
class Graph:
    """An outside ONNX model read against the service's signature, and the adapted copy that meets it."""

    model: Any  # onnx.ModelProto
    options: ImportOptions
    z_source: str = ""
    label_source: str | None = None
    output_source: str = ""
    latent_dim: int = 0
    label_blend: bool = False
    num_classes: int | None = None

    def __post_init__(self) -> None:
        g, o = self.model.graph, self.options
        inits = {i.name for i in g.initializer}
        inputs = {i.name: i for i in g.input if i.name not in inits}
        if not inputs:
            raise ImportRefused("the graph has no inputs; a generator takes a latent z [N, d]")
        self.z_source = o.z_input or ("z" if "z" in inputs else next(iter(inputs)) if len(inputs) == 1 else "")
        if not self.z_source:
            raise ImportRefused(f"inputs {sorted(inputs)}: say which is the latent with --z-input NAME")
        self.label_source = o.label_input or ("label" if "label" in inputs and self.z_source != "label" else None)
        for flag, name in (("--z-input", self.z_source), ("--label-input", self.label_source)):
            if name is not None and name not in inputs:
                raise ImportRefused(f"{flag} {name!r}: the graph's inputs are {sorted(inputs)}")
        extra = sorted(set(inputs) - {self.z_source, self.label_source})
        if extra:
            raise ImportRefused(
                f"input {extra[0]!r} is neither the latent nor the label; the service feeds only z and label "
                "(map them with --z-input and --label-input)"
            )
        self.latent_dim = self._latent(inputs[self.z_source])
        if self.label_source is not None:
            self._label(inputs[self.label_source])
        elif o.num_classes is not None or o.class_names is not None:
            raise ImportRefused("--num-classes/--class-names given, but the graph has no label input")
        self._output()
        names = {"z", "label", "image"}
        for node in g.node:
            clash = names & (set(node.output) | set(node.input))
            clash -= {n for n in (self.z_source, self.label_source, self.output_source) if n}
            if clash:
                raise ImportRefused(f"the graph uses the name {sorted(clash)[0]!r} inside; it is reserved for I/O")

    def _latent(self, value: Any) -> int:
        kind, dims = _type_of(value)
        if kind != "float32" or len(dims) != 2:
            raise ImportRefused(f"latent {value.name!r} is {kind} {_show(dims)}; it must be float32 [N, d]")
        _batch_axis(value.name, dims)
        if not isinstance(dims[1], int) or dims[1] < 1:
            raise ImportRefused(f"latent {value.name!r} is {_show(dims)}; its size d must be a fixed number")
        return dims[1]

    def _label(self, value: Any) -> None:
        kind, dims = _type_of(value)
        o = self.options
        given = len(o.class_names) if o.class_names else o.num_classes
        if o.class_names and o.num_classes is not None and o.num_classes != len(o.class_names):
            raise ImportRefused(f"--num-classes {o.num_classes} but {len(o.class_names)} --class-names")
        if kind == "int64" and len(dims) == 1:
            _batch_axis(value.name, dims)
            if given is None:
                raise ImportRefused(f"label {value.name!r} takes class indices: give --num-classes K or --class-names")
            self.num_classes = given
        elif kind == "float32" and len(dims) == 2 and isinstance(dims[1], int):
            _batch_axis(value.name, dims)
            if given is not None and given != dims[1]:
                raise ImportRefused(f"label {value.name!r} is {_show(dims)}, but {given} classes were given")
            self.num_classes, self.label_blend = dims[1], True
        else:
            raise ImportRefused(
                f"label {value.name!r} is {kind} {_show(dims)}; it must be int64 [N] (class indices) "
                "or float32 [N, K] (class vectors)"
            )
        if self.num_classes < 2:
            raise ImportRefused(f"label {value.name!r}: a conditional model needs at least 2 classes")

    def _output(self) -> None:
        outputs = {o.name: o for o in self.model.graph.output}
        self.output_source = self.options.output or self.model.graph.output[0].name
        if self.output_source not in outputs:
            raise ImportRefused(f"--output {self.output_source!r}: the graph's outputs are {sorted(outputs)}")
        kind, dims = _type_of(outputs[self.output_source])
        if kind in INT_TYPES:
            raise ImportRefused(f"output {self.output_source!r} is {kind}; images must be float32 in a known range")
        if kind != "float32":
            raise ImportRefused(f"output {self.output_source!r} is {kind}; it must be float32 [N, C, H, W]")
        if dims and len(dims) != 4:
            raise ImportRefused(f"output {self.output_source!r} is {_show(dims)}; it must be [N, C, H, W]")
        if dims:
            _batch_axis(self.output_source, dims)

    def adapted(self) -> Any:
        """A copy whose inputs are z (and label) and whose one output is `image` in [-1, 1]."""
        from onnx import TensorProto, helper, numpy_helper

        model = type(self.model)()
        model.CopyFrom(self.model)
        g = model.graph
        front: list[Any] = []
        z_in = helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", self.latent_dim])
        latent = self.options.latent
        if latent == "normal" and self.z_source != "z":
            front.append(helper.make_node("Identity", ["z"], [self.z_source]))
        elif latent != "normal":  # the normal CDF turns the served N(0, 1) into U(-1, 1), then U(0, 1) if asked
            g.initializer.append(numpy_helper.from_array(np.float32(1 / math.sqrt(2)), "import_inv_sqrt2"))
            front += [
                helper.make_node("Mul", ["z", "import_inv_sqrt2"], ["import_scaled"]),
                helper.make_node("Erf", ["import_scaled"], ["import_u" if latent == "uniform01" else self.z_source]),
            ]
            if latent == "uniform01":
                g.initializer.append(numpy_helper.from_array(np.float32(1), "import_one"))
                g.initializer.append(numpy_helper.from_array(np.float32(0.5), "import_half"))
                front += [
                    helper.make_node("Add", ["import_u", "import_one"], ["import_u1"]),
                    helper.make_node("Mul", ["import_u1", "import_half"], [self.z_source]),
                ]
        new_inputs = [z_in]
        if self.label_source is not None:
            dtype, dims = (
                (TensorProto.FLOAT, ["N", self.num_classes]) if self.label_blend else (TensorProto.INT64, ["N"])
            )
            new_inputs.append(helper.make_tensor_value_info("label", dtype, dims))
            if self.label_source != "label":
                front.append(helper.make_node("Identity", ["label"], [self.label_source]))
        lo, hi = self.options.output_range
        back: list[Any] = []
        if (lo, hi) != (-1.0, 1.0):  # image = (y - lo) * 2 / (hi - lo) - 1
            g.initializer.extend(
                numpy_helper.from_array(np.float32(v), n)
                for n, v in (("import_lo", lo), ("import_scale", 2 / (hi - lo)), ("import_minus_one", -1.0))
            )
            back += [
                helper.make_node("Sub", [self.output_source, "import_lo"], ["import_shifted"]),
                helper.make_node("Mul", ["import_shifted", "import_scale"], ["import_scaled_out"]),
                helper.make_node("Add", ["import_scaled_out", "import_minus_one"], ["image"]),
            ]
        elif self.output_source != "image":
            back.append(helper.make_node("Identity", [self.output_source], ["image"]))
        kept = [i for i in g.input if i.name in {x.name for x in g.initializer}]  # IR < 4 lists weights as inputs
        nodes = front + list(g.node) + back
        del g.input[:], g.node[:], g.output[:]
        g.input.extend(new_inputs + kept)
        g.node.extend(nodes)
        g.output.append(helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", None, None, None]))
        if self.options.latent != "normal" and self.opset() < 9:
            raise ImportRefused(f"--latent {latent} needs opset 9 or later (Erf); the graph has opset {self.opset()}")
        return model

    def opset(self) -> int:
        versions = [o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx")]
        if not versions:
            raise ImportRefused("the graph imports no standard ONNX opset")
        return int(versions[0])

    def feeds_for(self, seeds: Sequence[int]) -> dict[str, np.ndarray]:
        """The service's feeds for these seeds (service/sampling.py), so the checks see what it will send."""
        draws = sampling.draws(seeds, self.latent_dim, self.num_classes)
        feeds = {"z": np.stack([d.z for d in draws])}
        if self.num_classes is not None:
            feeds["label"] = self.label_feed([int(d.label or 0) for d in draws])
        return feeds

    def label_feed(self, labels: Sequence[int]) -> np.ndarray:
        index = np.asarray(labels, dtype=np.int64)
        if not self.label_blend:
            return index
        assert self.num_classes is not None
        return np.eye(self.num_classes, dtype=np.float32)[index]

    def manifest(self, sha: str, checks: dict[str, Any], source: Path, source_sha: str) -> dict[str, Any]:
        o, conditional = self.options, self.num_classes is not None
        channels, height, width = checks.pop("image")
        inputs = [{"name": "z", "dtype": "float32", "shape": ["N", self.latent_dim]}]
        if conditional:
            label = ("float32", ["N", self.num_classes]) if self.label_blend else ("int64", ["N"])
            inputs.append({"name": "label", "dtype": label[0], "shape": label[1]})
        return {
            "name": o.name,
            "variant": o.variant,
            "dataset": o.dataset,
            "latent_dim": self.latent_dim,
            "conditional": conditional,
            "num_classes": self.num_classes,
            "class_names": list(o.class_names) if o.class_names else None,
            "codes": None,
            "label_blend": self.label_blend,
            "image": {"channels": channels, "height": height, "width": width},
            "inputs": inputs,
            "outputs": [{"name": "image", "dtype": "float32", "shape": ["N", channels, height, width]}],
            "file": "model.onnx",
            "sha256": sha,
            "opset": self.opset(),
            "training": {
                "imported": {
                    "source": source.name,
                    "source_sha256": source_sha,
                    "producer": f"{self.model.producer_name} {self.model.producer_version}".strip(),
                    "inputs": {"z": self.z_source} | ({"label": self.label_source} if conditional else {}),
                    "output": self.output_source,
                    "latent": o.latent,
                    "output_range": list(o.output_range),
                    **checks,
                    **o.source,
                }
            },
            "metrics": {},
        }


def _type_of(value: Any) -> tuple[str, list[int | str]]:
    """(dtype name, dims) of a graph input or output; a dim is a size, a symbol, or "?" when unnamed."""
    from onnx import helper

    t = value.type.tensor_type
    kind = helper.tensor_dtype_to_np_dtype(t.elem_type).name if t.elem_type else "unknown"
    if not t.HasField("shape"):
        return kind, []
    dims: list[int | str] = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]
    return kind, dims


def _batch_axis(name: str, dims: Sequence[int | str]) -> None:
    if isinstance(dims[0], int):
        raise ImportRefused(
            f"{name!r} has a fixed batch size of {dims[0]} ({_show(dims)}); export it with a dynamic batch axis"
        )


def _show(dims: Sequence[int | str]) -> str:
    return "[" + ", ".join(map(str, dims)) + "]"
