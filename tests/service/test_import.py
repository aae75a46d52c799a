"""`python -m training import` (issue #37): generators trained elsewhere, grey or colour, served by every endpoint.

The outside graphs are written with `onnx.helper` alone (tests/service/outside.py), never through torch, with
random weights: a 3×64×64 DCGAN-shaped graph, a 1×32×32 one with other names, a [0, 1] output and a uniform
latent, and a conditional 3×32×32 one. They are imported by the real command, then served by one real server
for the whole module; every refusal is its own import, which must leave nothing behind.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from gan_client import GanClient
from service import imaging
from service.manifest import file_sha256, load_manifest
from training.__main__ import main as training_main

from .conftest import REPO
from .helpers import decode, pngs, post_json, single
from .launch import Launched, serving
from .outside import add_encoder, outside_generator

RGB, GREY, COND = "outside-rgb", "outside-grey", "outside-cond"
CLASSES = ["cat", "dog", "fox", "owl"]
FOLDER_FILES = ["manifest.json", "model.onnx", "samples.png"]


def import_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m training import ...` as a serve-only install runs it: torch cannot be imported."""
    script = (
        "import sys; sys.modules['torch'] = None\n"
        f"from training.__main__ import main; sys.exit(main(['import', *{list(args)!r}]))"
    )
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outside")
    outside_generator(root / "rgb64.onnx", channels=3, size=64, latent_dim=16)
    outside_generator(
        root / "grey32.onnx", channels=1, size=32, latent_dim=8, z_name="noise", output_name="out", final="Sigmoid"
    )
    outside_generator(root / "cond.onnx", channels=3, size=32, latent_dim=12, num_classes=4, z_name="latent")
    return root


@pytest.fixture(scope="module")
def models(sources: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("imported")
    done = import_cli(str(sources / "rgb64.onnx"), "--name", RGB, "--out", str(out), "--variant", "dcgan")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(f"{RGB}: 3×64×64, latent 16, unconditional"), done.stdout
    grey = ["--name", GREY, "--out", str(out), "--output-range", "0", "1", "--latent", "uniform"]
    assert training_main(["import", str(sources / "grey32.onnx"), *grey]) == 0
    cond = ["--name", COND, "--out", str(out), "--z-input", "latent", "--class-names", ",".join(CLASSES)]
    assert training_main(["import", str(sources / "cond.onnx"), *cond]) == 0
    return out


@pytest.fixture(scope="module")
def served(models: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One server over the imported models, plus a copy of the colour one with an outside encoder (/encode)."""
    root = tmp_path_factory.mktemp("served")
    for name in (RGB, GREY, COND):
        (root / name).symlink_to(models / name, target_is_directory=True)
    _with_encoder(models / RGB, root / "outside-rgb-enc")
    log = tmp_path_factory.mktemp("log") / "server.log"
    with serving(root, log, max_batch=8, max_wait_ms=20, default_model=RGB) as server:
        yield server


def _with_encoder(source: Path, folder: Path) -> None:
    """A copy of the imported colour model with an outside encoder.onnx beside it."""
    folder.mkdir()
    for name in FOLDER_FILES:
        (folder / name).write_bytes((source / name).read_bytes())
    manifest = json.loads((folder / "manifest.json").read_text()) | {"name": folder.name}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    add_encoder(folder)


@pytest.fixture(scope="module")
def client(served: Launched) -> Any:
    with served.client() as c:
        yield c


def png_colour_type(png: bytes) -> int:
    """The IHDR colour type: 0 grayscale, 2 truecolour (RGB)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return png[25]


# ---------- the import itself ----------


def test_the_folder_holds_the_graph_its_manifest_and_samples(models: Path):
    assert sorted(p.name for p in models.iterdir()) == sorted([COND, GREY, RGB]), "something half-written is left"
    for name, (c, s) in {RGB: (3, 64), GREY: (1, 32), COND: (3, 32)}.items():
        folder = models / name
        assert sorted(p.name for p in folder.iterdir()) == FOLDER_FILES
        m = load_manifest(folder)  # the service's own schema
        assert m.sha256 == file_sha256(folder / "model.onnx")
        assert (m.image.channels, m.image.height, m.image.width) == (c, s, s)
        assert m.outputs[0].shape == ["N", c, s, s] and m.opset == 18
        samples = Image.open(folder / "samples.png")
        assert samples.mode == ("RGB" if c == 3 else "L") and np.asarray(samples).std() > 1
    cond = load_manifest(models / COND)
    assert cond.conditional and cond.class_names == CLASSES and [i.name for i in cond.inputs] == ["z", "label"]
    record = cond.training["imported"]
    assert record["inputs"] == {"z": "latent", "label": "label"} and record["source"] == "cond.onnx"
    assert load_manifest(models / GREY).training["imported"]["latent"] == "uniform"


def test_the_grey_model_maps_its_range_and_latent(models: Path, sources: Path):
    """[0, 1] outputs become [-1, 1], and the served normal z reaches the graph as U(-1, 1) = erf(z / √2)."""
    import math

    import onnxruntime as ort

    z = np.array([[0.3, -1.2, 2.5, 0.0, -0.7, 1.1, -2.2, 0.5]], dtype=np.float32)
    served = ort.InferenceSession(str(models / GREY / "model.onnx")).run(None, {"z": z})[0]
    u = np.array([[math.erf(v / math.sqrt(2)) for v in z[0]]], dtype=np.float32)
    original = ort.InferenceSession(str(sources / "grey32.onnx")).run(None, {"noise": u})[0]
    np.testing.assert_allclose(served, original * 2 - 1, atol=1e-5)


def test_the_service_serves_them(served: Launched, client: httpx.Client):
    body = client.get("/models").json()
    infos = {m["name"]: m for m in body["models"]}
    assert {RGB, GREY, COND} <= set(infos) and not client.get("/readyz").json().get("failed")
    assert infos[RGB]["image"] == {"channels": 3, "height": 64, "width": 64} and infos[RGB]["variant"] == "dcgan"
    assert infos[COND]["class_names"] == CLASSES and infos[RGB]["encoder"] is None
    assert infos[RGB]["identity"]["identical"] and infos[RGB]["batch_shapes"] == "dynamic"
    r = client.get(f"/models/{RGB}/samples.png")
    assert r.status_code == 200 and png_colour_type(r.content) == 2


# ---------- colour and grey through every endpoint ----------


@pytest.mark.parametrize(("name", "colour", "size"), [(RGB, 2, 64), (GREY, 0, 32), (COND, 2, 32)])
def test_generate_png_grid_and_json(client: httpx.Client, name: str, colour: int, size: int):
    one = client.post("/generate", json={"model": name, "seed": 7})
    assert one.status_code == 200 and png_colour_type(one.content) == colour
    assert decode(one.content).size == (size, size)
    grid = client.post("/generate", json={"model": name, "seed": 7, "n": 6, "columns": 3})
    assert png_colour_type(grid.content) == colour and decode(grid.content).size == (3 * size, 2 * size)
    images = post_json(client, "/generate", {"model": name, "seed": 7, "n": 6})["images"]
    assert base64.b64decode(images[0]["png"]) == one.content
    assert decode(images[1]["png"]).mode == ("RGB" if colour == 2 else "L")
    assert np.asarray(decode(one.content)).std() > 1, "blank image"


@pytest.mark.parametrize("name", [RGB, GREY, COND])
def test_images_are_byte_identical_whatever_the_batching(client: httpx.Client, name: str):
    batched = pngs(client, "/generate", {"model": name, "seed": 100, "n": 8})
    with ThreadPoolExecutor(8) as pool:  # eight single requests at once: the batcher merges them as it likes
        alone = list(pool.map(lambda i: single(client, name, 100 + i), range(8)))
    assert batched == alone
    assert len(set(batched)) == 8


def test_conditional_labels_by_name(client: httpx.Client):
    body = post_json(client, "/generate", {"model": COND, "seed": 3, "n": 2, "label": "fox"})
    assert [im["class_name"] for im in body["images"]] == ["fox", "fox"]
    other = single(client, COND, 3, label="owl")
    assert other != body["images"][0]["png"]
    bad = client.post("/generate", json={"model": COND, "label": "eel"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "label"]


@pytest.mark.parametrize("name", [RGB, GREY, COND])
def test_interpolate_ends_are_the_generated_images(client: httpx.Client, name: str):
    frames = post_json(client, "/interpolate", {"model": name, "seed_a": 1, "seed_b": 2, "steps": 5})["images"]
    label = {} if name != COND else {"label": frames[0]["label"]}
    assert frames[0]["png"] == single(client, name, 1, **label)
    assert frames[-1]["png"] == single(client, name, 2, **({} if name != COND else {"label": frames[-1]["label"]}))
    strip = client.post("/interpolate", json={"model": name, "seed_a": 1, "seed_b": 2, "steps": 5})
    assert png_colour_type(strip.content) == (0 if name == GREY else 2)


@pytest.mark.parametrize("name", [RGB, GREY, COND])
def test_arithmetic(client: httpx.Client, name: str):
    one = post_json(client, "/arithmetic", {"model": name, "terms": [{"seeds": [9], "weight": 1}]})
    assert one["images"][0]["png"] == single(client, name, 9, **({"label": one["label"]} if name == COND else {}))
    terms = [{"seeds": [1, 2], "weight": 1}, {"seeds": [3], "weight": -1}, {"seeds": [4, 5], "weight": 1}]
    body = post_json(client, "/arithmetic", {"model": name, "terms": terms})
    assert len(body["terms"]) == 3 and decode(body["images"][0]["png"]).mode == ("L" if name == GREY else "RGB")


def test_truncation(client: httpx.Client):
    plain = single(client, RGB, 5)
    truncated = pngs(client, "/generate", {"model": RGB, "seed": 5, "n": 3, "truncation": 0.5})
    assert truncated[0] != plain and truncated[0] == single(client, RGB, 5, truncation=0.5)
    assert truncated[2] == single(client, RGB, 7, truncation=0.5)


@pytest.mark.parametrize("name", [RGB, GREY, COND])
def test_v2_gives_the_generate_images(client: httpx.Client, name: str):
    inputs = [{"name": "seed", "datatype": "INT64", "shape": [3], "data": [11, 12, 13]}]
    if name == COND:
        inputs.append({"name": "label", "datatype": "INT64", "shape": [3], "data": [0, 2, 3]})
    r = client.post(f"/v2/models/{name}/infer", json={"inputs": inputs})
    assert r.status_code == 200, r.text
    out = r.json()["outputs"][0]
    c, s = (1, 32) if name == GREY else (3, 64 if name == RGB else 32)
    assert out["shape"] == [3, c, s, s] and out["datatype"] == "FP32"
    images = np.asarray(out["data"], dtype=np.float32).reshape(out["shape"])
    for i, seed in enumerate((11, 12, 13)):
        label = {"label": [0, 2, 3][i]} if name == COND else {}
        assert imaging.b64(imaging.encode_grid(images[i : i + 1])) == single(client, name, seed, **label)
    meta = client.get(f"/v2/models/{name}").json()
    assert meta["outputs"][0]["shape"] == [-1, c, s, s]


def test_encode_needs_an_encoder_and_reads_colour(client: httpx.Client):
    rgba = Image.new("RGBA", (100, 60), (0, 0, 0, 0))  # an emoji-like upload: colour on a transparent ground
    rgba.paste((220, 40, 30, 255), (30, 10, 70, 50))
    data = io.BytesIO()
    rgba.save(data, "PNG")
    image = base64.b64encode(data.getvalue()).decode()
    refused = client.post("/encode", json={"model": RGB, "image": image})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "model"]
    enc = post_json(client, "/encode", {"model": "outside-rgb-enc", "image": image})
    source = np.asarray(decode(enc["source"]))
    assert source.shape == (64, 64, 3)
    assert (source[0, 0] == 255).all(), "transparent pixels are read as white"
    assert tuple(source[32, 32]) == (220, 40, 30), "the colour is kept"
    assert len(enc["latent"]) == 16 and decode(enc["reconstruction"]).mode == "RGB"
    again = post_json(client, "/encode", {"model": "outside-rgb-enc", "image": enc["source"]})
    assert again["latent"] == enc["latent"], "the source as read, sent back, reads the same"
    direct = single(client, "outside-rgb-enc", 1, latent=enc["latent"])
    assert direct == enc["reconstruction"] == single(client, "outside-rgb-enc", 1, image=image)


def test_client_and_cli(served: Launched, tmp_path: Path):
    with GanClient(served.url) as gan:
        png = gan.generate(model=RGB, seed=4, n=4)
        assert png_colour_type(png) == 2 and decode(png).size == (128, 128)
        assert gan.model(GREY)["image"]["channels"] == 1
    out = tmp_path / "rgb.png"
    args = ["--url", served.url, "sample", "--model", RGB, "--seed", "4", "-n", "4", "-o", str(out)]
    done = subprocess.run([sys.executable, "-m", "gan_client.cli", *args], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == png


# ---------- refusals: one line each, nothing left behind ----------

REFUSALS: dict[str, tuple[dict[str, Any], list[str], str]] = {
    "no batch axis": ({"batch": 1}, [], "'z' has a fixed batch size of 1 ([1, 16]); export it with a dynamic batch"),
    "output rank": ({"flaw": "flat"}, [], "output 'image' is [N, 3072]; it must be [N, C, H, W]"),
    "integer output": ({"flaw": "int"}, [], "output 'image' is uint8; images must be float32"),
    "NaN": ({"flaw": "nan"}, [], "on batch size 1 the output holds NaN or infinite values"),
    "out of range": ({"final": "Identity"}, [], "outside the declared range [-1, 1]; give the graph's range with"),
    "batch statistics": ({"flaw": "batchnorm"}, [], "an image changes with the other images of its batch"),
    "an input it cannot feed": ({"flaw": "extra"}, [], "input 'noise_scale' is neither the latent nor the label"),
    "five channels": ({"channels": 5}, [], "the output has 5 channels; the service serves grey (1) or RGB (3)"),
    "classes unknown": ({"num_classes": 3}, [], "takes class indices: give --num-classes K or --class-names"),
    "too few labels": ({"num_classes": 3}, ["--num-classes", "5"], "the graph fails on"),
    "unknown input name": ({}, ["--z-input", "noise"], "--z-input 'noise': the graph's inputs are ['z']"),
    "bad name": ({}, ["--name", "../up"], "--name '../up': use letters, digits"),
    "unknown output name": ({}, ["--output", "nope"], "--output 'nope': the graph's outputs are ['image']"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_graph_it_cannot_serve_is_refused_in_one_line(case: str, tmp_path: Path, capsys: pytest.CaptureFixture):
    kw, extra, message = REFUSALS[case]
    source = outside_generator(tmp_path / "g.onnx", **{"size": 32, **kw})
    out = tmp_path / "models"
    assert training_main(["import", str(source), "--name", "flawed", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot import {source}: ") and err.count("\n") == 1, err
    assert message in err, err
    assert not out.exists() or not any(out.iterdir()), f"left behind: {list(out.iterdir())}"


def test_an_existing_model_is_replaced_only_with_force(sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "models"
    args = ["import", str(sources / "rgb64.onnx"), "--name", "again", "--out", str(out)]
    assert training_main(args) == 0
    before = (out / "again" / "manifest.json").read_bytes()
    assert training_main([args[0], str(sources / "cond.onnx"), *args[2:]]) == 2
    assert "already exists; --force replaces it" in capsys.readouterr().err
    assert (out / "again" / "manifest.json").read_bytes() == before
    grey = ["import", str(sources / "grey32.onnx"), "--name", "again", "--out", str(out), "--output-range", "0", "1"]
    assert training_main([*grey, "--force"]) == 0
    assert load_manifest(out / "again").image.channels == 1
    assert [p.name for p in out.iterdir()] == ["again"], "the replaced folder is gone, nothing hidden is left"


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture):
    source = tmp_path / "notes.onnx"
    source.write_text("not a graph")
    assert training_main(["import", str(source), "--name", "x", "--out", str(tmp_path / "models")]) == 2
    assert f"{source} is not an ONNX model" in capsys.readouterr().err
    assert not any((tmp_path / "models").iterdir())


def test_class_vectors_blend(tmp_path: Path):
    """A float32 [N, K] class input is served as class mixtures (label_blend), K read from the graph."""
    from .conftest import tiny_generator

    tiny_generator(tmp_path / "blend.onnx", num_classes=3, blend=True)
    assert training_main(["import", str(tmp_path / "blend.onnx"), "--name", "b", "--out", str(tmp_path)]) == 0
    m = load_manifest(tmp_path / "b")
    assert m.label_blend and m.num_classes == 3 and m.inputs[1].shape == ["N", 3]


def test_a_pytorch_module_is_exported_then_imported(tmp_path: Path, capsys: pytest.CaptureFixture):
    import torch

    from .outside_torch import TinyColourGenerator

    torch.manual_seed(0)
    torch.save(TinyColourGenerator().state_dict(), tmp_path / "g.pt")
    module = ["--module", "tests.service.outside_torch:TinyColourGenerator", "--latent-dim", "8"]
    args = ["import", *module, "--weights", str(tmp_path / "g.pt"), "--name", "torch-made", "--out", str(tmp_path)]
    assert training_main(args) == 0
    m = load_manifest(tmp_path / "torch-made")
    assert (m.image.channels, m.image.height, m.latent_dim) == (3, 16, 8)
    assert m.training["imported"]["module"] == module[1] and m.training["imported"]["parity_max_abs_diff"] < 1e-4
    assert training_main([*args[:-4], "--name", "wrong", "--out", str(tmp_path), "--latent-dim", "9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fails on z [2, 9]" in err, err
