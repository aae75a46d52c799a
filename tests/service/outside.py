"""Generators "trained elsewhere": ONNX graphs written with `onnx.helper` alone, as no part of this project
writes its own (training exports through torch.onnx), for the import tests (tests/service/test_import.py).

A DCGAN-shaped graph: z → Gemm → Relu → [N, 16, 4, 4] → ConvTranspose (×2 each, Relu) → C channels → Tanh, with
random weights; optionally a `label` embedding that scales z, other input and output names, another final
activation, and the flaws the importer must refuse.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def outside_generator(
    path: Path,
    *,
    channels: int = 3,
    size: int = 64,
    latent_dim: int = 16,
    num_classes: int | None = None,
    z_name: str = "z",
    label_name: str = "label",
    output_name: str = "image",
    final: str = "Tanh",
    batch: int | str = "N",
    flaw: str | None = None,
    seed: int = 0,
) -> Path:
    """Write the graph to `path`. `final`: the last activation (Tanh: [-1, 1]; Sigmoid: [0, 1]; Identity: any).
    `flaw`: "flat" (output [N, C·H·W]), "int" (uint8 output), "nan" (NaN everywhere), "batchnorm" (each image
    minus its batch's mean), "extra" (a third input the service cannot feed)."""
    rng = np.random.default_rng(seed)
    widths = [16]
    while 4 * 2 ** (len(widths) - 1) < size:
        widths.append(max(4, widths[-1] // 2))
    widths[-1] = channels
    inits = [
        numpy_helper.from_array(rng.normal(0, 0.5, (latent_dim, 16 * 16)).astype(np.float32), "fc_w"),
        numpy_helper.from_array(rng.normal(0, 0.1, (16 * 16,)).astype(np.float32), "fc_b"),
        numpy_helper.from_array(np.array([-1, 16, 4, 4], dtype=np.int64), "to_maps"),
    ]
    inputs = [helper.make_tensor_value_info(z_name, TensorProto.FLOAT, [batch, latent_dim])]
    nodes, h = [], z_name
    if num_classes:
        inputs.append(helper.make_tensor_value_info(label_name, TensorProto.INT64, [batch]))
        inits.append(numpy_helper.from_array(rng.normal(1, 0.5, (num_classes, latent_dim)).astype(np.float32), "emb"))
        nodes += [helper.make_node("Gather", ["emb", label_name], ["e"]), helper.make_node("Mul", [h, "e"], ["ze"])]
        h = "ze"
    if flaw == "extra":
        inputs.append(helper.make_tensor_value_info("noise_scale", TensorProto.FLOAT, [batch, 1]))
        nodes.append(helper.make_node("Mul", [h, "noise_scale"], ["zs"]))
        h = "zs"
    nodes += [
        helper.make_node("Gemm", [h, "fc_w", "fc_b"], ["fc"]),
        helper.make_node("Relu", ["fc"], ["fc_r"]),
        helper.make_node("Reshape", ["fc_r", "to_maps"], ["x0"]),
    ]
    previous = 16
    for i, width in enumerate(widths[1:]):
        std = 1.0 / np.sqrt(previous * 4)
        inits.append(numpy_helper.from_array(rng.normal(0, std, (previous, width, 4, 4)).astype(np.float32), f"w{i}"))
        nodes.append(
            helper.make_node("ConvTranspose", [f"x{i}", f"w{i}"], [f"c{i}"], strides=[2, 2], pads=[1, 1, 1, 1])
        )
        last = i == len(widths) - 2
        if not last:
            nodes.append(helper.make_node("Relu", [f"c{i}"], [f"x{i + 1}"]))
        previous = width
    h = f"c{len(widths) - 2}"
    nodes.append(helper.make_node(final, [h], ["act"]))
    h, out_type, out_shape = "act", TensorProto.FLOAT, [batch, channels, size, size]
    if flaw == "flat":
        inits.append(numpy_helper.from_array(np.array([0, -1], dtype=np.int64), "flat_shape"))
        nodes.append(helper.make_node("Reshape", [h, "flat_shape"], ["flat"]))
        h, out_shape = "flat", [batch, channels * size * size]
    elif flaw == "int":
        nodes.append(helper.make_node("Cast", [h], ["as_int"], to=TensorProto.UINT8))
        h, out_type = "as_int", TensorProto.UINT8
    elif flaw == "nan":  # sqrt(-1 - |x|)
        inits.append(numpy_helper.from_array(np.float32(-1), "minus_one"))
        nodes += [
            helper.make_node("Abs", [h], ["abs"]),
            helper.make_node("Sub", ["minus_one", "abs"], ["negative"]),
            helper.make_node("Sqrt", ["negative"], ["nan"]),
        ]
        h = "nan"
    elif flaw == "batchnorm":  # batch statistics left in: each image depends on the others
        nodes += [
            helper.make_node("ReduceMean", [h, "axis0"], ["mean"], keepdims=1),
            helper.make_node("Sub", [h, "mean"], ["centred"]),
        ]
        inits.append(numpy_helper.from_array(np.array([0], dtype=np.int64), "axis0"))
        h = "centred"
    nodes.append(helper.make_node("Identity", [h], [output_name]))
    graph = helper.make_graph(
        nodes, "outside", inputs, [helper.make_tensor_value_info(output_name, out_type, out_shape)], inits
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="onnx.helper")
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def outside_encoder(path: Path, *, channels: int = 3, size: int = 64, latent_dim: int = 16, seed: int = 1) -> Path:
    """An encoder for such a generator, as `python -m training encoder` would list it: image [N, C, S, S] →
    Flatten → Gemm → latent [N, d] (random weights: what /encode does with colour is tested, not its quality)."""
    rng = np.random.default_rng(seed)
    pixels = channels * size * size
    inits = [
        numpy_helper.from_array(rng.normal(0, 1 / np.sqrt(pixels), (pixels, latent_dim)).astype(np.float32), "w"),
        numpy_helper.from_array(np.zeros(latent_dim, np.float32), "b"),
    ]
    nodes = [
        helper.make_node("Flatten", ["image"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w", "b"], ["latent"]),
    ]
    graph = helper.make_graph(
        nodes,
        "outside_encoder",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", channels, size, size])],
        [helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["N", latent_dim])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, str(path))
    return path


def add_encoder(folder: Path) -> None:
    """Give an imported model folder an outside encoder, listed in its manifest as `python -m training encoder`
    lists one (file, sha256, the generator's sha256, inputs and outputs), so /encode serves it."""
    manifest = json.loads((folder / "manifest.json").read_text())
    image, latent = manifest["image"], manifest["latent_dim"]
    shape = ["N", image["channels"], image["height"], image["width"]]
    outside_encoder(folder / "encoder.onnx", channels=shape[1], size=shape[2], latent_dim=latent)
    manifest["encoder"] = {
        "file": "encoder.onnx",
        "sha256": hashlib.sha256((folder / "encoder.onnx").read_bytes()).hexdigest(),
        "generator_sha256": manifest["sha256"],
        "inputs": [{"name": "image", "dtype": "float32", "shape": shape}],
        "outputs": [{"name": "latent", "dtype": "float32", "shape": ["N", latent]}],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
