"""Open Inference Protocol v2, driven by the official Triton HTTP client, unchanged."""

from __future__ import annotations

import io
import json
from urllib.parse import urlparse

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from PIL import Image
from tritonclient.utils import InferenceServerException

from service import imaging


@pytest.fixture(scope="module")
def tc(server):
    client = triton.InferenceServerClient(urlparse(server.url).netloc)
    yield client
    client.close()


def generate_png(client: httpx.Client, model: str, seed: int, label: int | None = None) -> bytes:
    body = {"model": model, "seed": seed} | ({"label": label} if label is not None else {})
    r = client.post("/generate", json=body)
    assert r.status_code == 200, r.text
    return r.content


def infer(tc, model: str, inputs: dict[str, np.ndarray], binary: bool) -> np.ndarray:
    datatypes = {np.dtype(np.float32): "FP32", np.dtype(np.int64): "INT64"}
    tensors = []
    for name, array in inputs.items():
        t = triton.InferInput(name, list(array.shape), datatypes[array.dtype])
        t.set_data_from_numpy(array, binary_data=binary)
        tensors.append(t)
    outputs = [triton.InferRequestedOutput("image", binary_data=binary)]
    return tc.infer(model, tensors, outputs=outputs).as_numpy("image")


def test_health_and_metadata(tc, server):
    model = server.find("conditional")["name"]
    assert tc.is_server_live() and tc.is_server_ready()
    assert tc.is_model_ready(model)
    assert not tc.is_model_ready("no-such-model")
    assert tc.get_server_metadata()["name"] == "gan-sampling-service"
    meta = tc.get_model_metadata(model)
    assert [i["name"] for i in meta["inputs"]] == ["z", "label"]
    assert meta["inputs"][0]["shape"][0] == -1 and meta["outputs"][0]["name"] == "image"


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_seed_tensor_gives_the_generate_images(tc, server, client, binary):
    found = server.find("conditional")
    model = found["name"]
    seeds = np.array([5, 6, 7], dtype=np.int64)
    labels = np.array([3, 3, found["num_classes"] - 1], dtype=np.int64)  # the last class too
    images = infer(tc, model, {"seed": seeds, "label": labels}, binary)
    assert images.shape[0] == 3 and images.dtype == np.float32
    for i, (seed, label) in enumerate(zip(seeds, labels, strict=True)):
        assert imaging.encode_each(images[i : i + 1])[0] == generate_png(client, model, int(seed), int(label))


def test_model_inputs_as_tensors(tc, server):
    model = server.find("infogan")
    rng = np.random.default_rng(0)
    k = model["codes"]["continuous"]
    inputs = {
        "z": rng.standard_normal((2, model["latent_dim"])).astype(np.float32),
        "c_cat": np.array([0, 1], dtype=np.int64),
        "c_cont": np.zeros((2, k), dtype=np.float32),
    }
    images = infer(tc, model["name"], inputs, binary=True)
    c, h, w = model["image"]["channels"], model["image"]["height"], model["image"]["width"]
    assert images.shape == (2, c, h, w) and np.abs(images).max() <= 1.0 + 1e-6
    with Image.open(io.BytesIO(imaging.encode_each(images[:1])[0])) as img:
        assert img.size == (w, h) and np.asarray(img).std() > 0


@pytest.mark.parametrize(
    "inputs, message",
    [
        ({"seed": np.array([-1], dtype=np.int64)}, "values must lie in"),
        ({"x": np.zeros((1, 3), dtype=np.float32)}, "inputs must be"),
        ({"z": np.zeros((1, 3), dtype=np.float32)}, r"input 'z': expected shape \[1, \d+\]"),
        ({"seed": np.zeros(300, dtype=np.int64)}, "allowed 1..256"),
    ],
    ids=["negative-seed", "wrong-inputs", "wrong-shape", "too-many"],
)
def test_bad_requests_are_400_with_the_protocol_error(tc, server, inputs, message):
    model = server.find("unconditional")["name"]
    with pytest.raises(InferenceServerException, match=message) as e:
        infer(tc, model, inputs, binary=True)
    assert e.value.status() == "400"


def test_unknown_model_and_malformed_body(client):
    assert client.post("/v2/models/nope/infer", json={"inputs": []}).status_code == 404
    r = client.post("/v2/models/" + client.get("/models").json()["default"] + "/infer", content=b"{not json")
    assert r.status_code == 400 and "malformed" in r.json()["error"]


def _post_infer(client: httpx.Client, model: str, body: bytes) -> httpx.Response:
    return client.post(f"/v2/models/{model}/infer", content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 60_000,
        b'{"inputs": ' + b"[" * 60_000,
        b'{"inputs": [{"name": "z", "shape": [1], "datatype": "FP32", "data": ' + b"[" * 40 + b"0" + b"]" * 40 + b"}]}",
    ],
    ids=["open-brackets", "in-inputs", "deep-data"],
)
def test_a_deeply_nested_body_is_a_400_not_a_500(server, client, body):
    r = _post_infer(client, server.find("unconditional")["name"], body)
    assert r.status_code == 400 and "nests deeper than" in r.json()["error"], r.text


@pytest.mark.parametrize("value", [1e300, -1e39, 3.5e38])
def test_fp64_values_past_float32_are_a_400_not_a_500(server, client, value):
    """An FP64 `z` is checked after its cast to the graph's float32: 1e300 is finite only before it (it became inf,
    the generator NaN, and the JSON answer a 500; the binary one a 200 full of NaN)."""
    model = server.find("unconditional")
    dim = model["latent_dim"]
    data = [0.0] * dim
    data[1] = value
    tensor = {"name": "z", "shape": [1, dim], "datatype": "FP64", "data": data}
    r = _post_infer(client, model["name"], json.dumps({"inputs": [tensor]}).encode())
    assert r.status_code == 400 and "finite" in r.json()["error"], r.text
    binary = {"inputs": [tensor], "outputs": [{"name": "image", "parameters": {"binary_data": True}}]}
    r = _post_infer(client, model["name"], json.dumps(binary).encode())
    assert r.status_code == 400 and "finite" in r.json()["error"], r.text


def _seed_body(datatype: str, value: float) -> bytes:
    tensor = {"name": "seed", "shape": [1], "datatype": datatype, "data": [value]}
    return json.dumps({"inputs": [tensor]}).encode()


def test_fp32_seeds_are_exact_integers_up_to_2_24(tc, server, client):
    model = server.find("unconditional")["name"]
    for binary in (True, False):
        image = infer(tc, model, {"seed": np.array([2**24], dtype=np.float32)}, binary)
        assert imaging.encode_each(image)[0] == generate_png(client, model, 2**24)
        with pytest.raises(InferenceServerException, match="2\\^24") as e:
            infer(tc, model, {"seed": np.array([2**24 + 2], dtype=np.float32)}, binary)  # a float32, held exactly
        assert e.value.status() == "422"
    for value in (2**24 + 1, 5.5, 1.0000001):  # rounded to 16,777,216, 5.5 and 1 by a float32
        r = _post_infer(client, model, _seed_body("FP32", value))
        assert r.status_code == 422 and "exact integer" in r.json()["error"], (value, r.text)
    assert _post_infer(client, model, _seed_body("FP64", 2**24 + 1)).status_code == 200  # a float64 holds it
    assert _post_infer(client, model, _seed_body("FP64", 5.5)).status_code == 422
