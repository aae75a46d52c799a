"""Truncation and explicit latents (issue #21) against a real server over the committed MNIST generators.

The server serves mnist-dcgan, mnist-cgan and mnist-infogan from exported_models/ (linked), so every
latent here runs through the real ONNX graphs; bytes are compared, never approximated.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from service import sampling

from .conftest import EXPORTED
from .helpers import decode, pngs, post_json, single
from .launch import Launched, serving

MODELS = ("mnist-dcgan", "mnist-cgan", "mnist-infogan")
PSI = 0.7


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    root = tmp_path_factory.mktemp("latent_models")
    for name in MODELS:
        (root / name).symlink_to(EXPORTED / name, target_is_directory=True)
    with serving(root, root.parent / "server.log", max_batch=4, threads=1) as launched:
        yield launched


@pytest.fixture(scope="module")
def client(server: Launched) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def loc(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [str(x) for x in response.json()["detail"][0]["loc"]]


# ---------- truncation: the rule ----------


def test_truncated_draw_is_bounded_scaled_and_keeps_label_and_codes():
    plain = sampling.draw(11, 100, num_classes=10, n_cat=10, n_cont=2)
    assert np.abs(plain.z).max() > sampling.TRUNCATION_BOUND  # this seed has components to redraw
    cut = sampling.draw(11, 100, num_classes=10, n_cat=10, n_cont=2, truncation=PSI)
    assert np.abs(cut.z).max() <= sampling.TRUNCATION_BOUND * PSI
    assert (cut.label, cut.c_cat) == (plain.label, plain.c_cat)
    assert np.array_equal(cut.c_cont, plain.c_cont)
    kept = np.abs(plain.z) <= sampling.TRUNCATION_BOUND  # components in range are only scaled
    assert np.array_equal(cut.z[kept], (plain.z[kept].astype(np.float64) * PSI).astype(np.float32))
    assert np.array_equal(cut.z, sampling.draw(11, 100, 10, 10, 2, truncation=PSI).z)


def test_truncation_redraws_from_the_stream_after_the_codes():
    """The documented rule, replayed by hand: z, label, codes, then redraws in index order until none is out."""
    stream = sampling.rng(3)
    z = stream.standard_normal(100, dtype=np.float32)
    stream.integers(10)
    out = np.flatnonzero(np.abs(z) > 2)
    while out.size:
        z[out] = stream.standard_normal(out.size, dtype=np.float32)
        out = out[np.abs(z[out]) > 2]
    want = (z.astype(np.float64) * 0.5).astype(np.float32)
    assert np.array_equal(sampling.draw(3, 100, num_classes=10, truncation=0.5).z, want)


@pytest.mark.parametrize("psi", [0.0, -0.5, 1.0001, 2.0])
def test_truncation_outside_its_range_is_refused(psi):
    with pytest.raises(ValueError, match="truncation"):
        sampling.draw(1, 8, truncation=psi)


# ---------- truncation: the routes ----------


@pytest.mark.parametrize("name", MODELS)
def test_truncated_images_follow_their_seeds(client, name):
    batch = pngs(client, "/generate", {"model": name, "seed": 40, "n": 3, "truncation": PSI})
    assert batch == [single(client, name, 40 + i, truncation=PSI) for i in range(3)]
    assert batch[0] != single(client, name, 40)  # seed 40 has components past 2: ψ changes the image
    assert batch == pngs(client, "/generate", {"model": name, "seed": 40, "n": 3, "truncation": PSI})


def test_psi_one_truncates_without_scaling(client):
    """ψ = 1 still redraws components past 2, so it differs from no truncation; smaller ψ differ again."""
    images = {psi: single(client, "mnist-dcgan", 40, truncation=psi) for psi in (1, 0.8, 0.4)}
    assert len({*images.values(), single(client, "mnist-dcgan", 40)}) == 4
    label = post_json(client, "/generate", {"model": "mnist-cgan", "seed": 40})["images"][0]["label"]
    cut = post_json(client, "/generate", {"model": "mnist-cgan", "seed": 40, "truncation": 0.5})["images"][0]
    assert cut["label"] == label  # the label read from the stream does not move


def test_every_sampling_route_truncates_alike(client):
    for name in MODELS:
        labels = {"label_a": 3, "label_b": 5} if name == "mnist-cgan" else {}
        ends = ({"label": 3}, {"label": 5}) if labels else ({}, {})
        walk = {"model": name, "seed_a": 9, "seed_b": 12, "steps": 3, "truncation": PSI} | labels
        frames = pngs(client, "/interpolate", walk)
        want = (single(client, name, 9, truncation=PSI, **ends[0]), single(client, name, 12, truncation=PSI, **ends[1]))
        assert (frames[0], frames[-1]) == want
        term = {"model": name, "terms": [{"seeds": [9]}], "truncation": PSI}
        assert pngs(client, "/arithmetic", term)[0] == single(client, name, 9, truncation=PSI)
    infogan = pngs(client, "/infogan", {"model": "mnist-infogan", "seed": 9, "truncation": PSI})
    assert infogan[0] == single(client, "mnist-infogan", 9, truncation=PSI)


def test_png_answers_truncate_as_json_does(client):
    png = client.post("/generate", json={"model": "mnist-dcgan", "seed": 5, "truncation": PSI}).content
    assert decode(png).tobytes() == decode(single(client, "mnist-dcgan", 5, truncation=PSI)).tobytes()


def test_v2_seeds_truncate_with_the_request_parameter(client):
    body = {
        "inputs": [{"name": "seed", "datatype": "INT64", "shape": [1], "data": [9]}],
        "parameters": {"truncation": PSI},
    }
    r = client.post("/v2/models/mnist-dcgan/infer", json=body)
    assert r.status_code == 200, r.text
    image = np.asarray(r.json()["outputs"][0]["data"], np.float32).reshape(28, 28)
    want = np.asarray(decode(single(client, "mnist-dcgan", 9, truncation=PSI)), np.float32)
    assert np.abs(np.round((image + 1) * 127.5) - want).max() <= 1
    for bad in (0, 1.5, "0.5", True):
        r = client.post("/v2/models/mnist-dcgan/infer", json=body | {"parameters": {"truncation": bad}})
        assert r.status_code == 400 and "truncation" in r.json()["error"]


@pytest.mark.parametrize("psi", [0, -0.1, 1.01, "0.5", True, None])
@pytest.mark.parametrize("path", ["/generate", "/interpolate", "/arithmetic", "/infogan"])
def test_bad_truncation_is_a_422_naming_it(client, path, psi):
    bodies = {
        "/generate": {"model": "mnist-dcgan", "seed": 1},
        "/interpolate": {"model": "mnist-dcgan", "seed_a": 1, "seed_b": 2},
        "/arithmetic": {"model": "mnist-dcgan", "terms": [{"seeds": [1]}]},
        "/infogan": {"model": "mnist-infogan", "seed": 1},
    }
    r = client.post(path, json=bodies[path] | {"truncation": psi})
    if psi is None:  # null is "absent"
        assert r.status_code == 200
        return
    assert loc(r) == ["body", "truncation"]


def test_cli_truncation(server, tmp_path):
    out = tmp_path / "cut.png"
    cmd = [sys.executable, "-m", "gan_client.cli", "--url", server.url, "sample", "--model", "mnist-dcgan"]
    done = subprocess.run([*cmd, "--seed", "9", "--truncation", str(PSI), "-o", str(out)], capture_output=True)
    assert done.returncode == 0, done.stderr
    with httpx.Client(base_url=server.url) as c:
        assert (
            out.read_bytes() == c.post("/generate", json={"model": "mnist-dcgan", "seed": 9, "truncation": PSI}).content
        )
