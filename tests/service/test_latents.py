"""Truncation and explicit latents (issue #21) against a real server over the committed MNIST generators.

The server serves mnist-dcgan, mnist-cgan and mnist-infogan from exported_models/ (linked), so every
latent here runs through the real ONNX graphs; bytes are compared, never approximated. Those three have encoders;
mnist-lsgan, served beside them, has none.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from service import sampling

from .conftest import EXPORTED, REPO, TINY_KINDS, write_tiny_model
from .helpers import decode, pngs, post_json, single
from .launch import Launched, serving

MODELS = ("mnist-dcgan", "mnist-cgan", "mnist-infogan")
NO_ENCODER = "mnist-lsgan"
PSI = 0.7


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    root = tmp_path_factory.mktemp("latent_models")
    for name in (*MODELS, "fashion-dcgan", "fashion-cgan", NO_ENCODER, "mnist-cyclegan"):
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


# ---------- explicit latents ----------


DIMS = {"mnist-dcgan": 100, "mnist-cgan": 100, "mnist-infogan": 62}


def z_of(seed: int, truncation: float | None = None, name: str = "mnist-dcgan") -> list[float]:
    """z(seed) of a model, as JSON numbers (float32 → float64 is exact both ways)."""
    return [float(v) for v in sampling.draw(seed, DIMS[name], truncation=truncation).z]


@pytest.mark.parametrize("name", MODELS)
def test_a_latent_equal_to_z_of_a_seed_gives_that_seeds_bytes(client, name):
    body = {"model": name, "seed": 21, "latent": z_of(21, name=name)}
    png = client.post("/generate", json=body).content
    assert png == client.post("/generate", json={"model": name, "seed": 21}).content
    assert pngs(client, "/generate", body) == [single(client, name, 21)]
    other = pngs(client, "/generate", body | {"latent": z_of(22, name=name)})[0]
    assert other != single(client, name, 21)  # the latent, not the seed, decides z


def test_unconditional_latent_needs_no_seed(client):
    r = client.post("/generate", json={"model": "mnist-dcgan", "latent": z_of(33)})
    assert (
        r.status_code == 200
        and r.content == client.post("/generate", json={"model": "mnist-dcgan", "seed": 33}).content
    )
    assert r.headers["x-seed"]  # the seed drawn for the (absent) label and codes is reported


def test_a_latent_is_used_as_sent_not_truncated(client):
    cut = z_of(40, truncation=PSI)
    want = single(client, "mnist-dcgan", 40, truncation=PSI)
    assert single(client, "mnist-dcgan", 1, latent=cut) == want
    assert single(client, "mnist-dcgan", 1, latent=cut, truncation=0.3) == want


def test_latents_at_either_end_of_a_walk(client):
    for name in MODELS:
        seeds = {"seed_a": 4, "seed_b": 9}
        walk = pngs(client, "/interpolate", {"model": name, "steps": 4} | seeds)
        both = {"latent_a": z_of(4, name=name), "latent_b": z_of(9, name=name)}
        assert pngs(client, "/interpolate", {"model": name, "steps": 4} | seeds | both) == walk
    plain = pngs(client, "/interpolate", {"model": "mnist-dcgan", "seed_a": 4, "seed_b": 9, "steps": 4})
    mixed = {"model": "mnist-dcgan", "latent_a": z_of(4), "seed_b": 9, "steps": 4}
    assert pngs(client, "/interpolate", mixed) == plain
    assert (
        pngs(client, "/interpolate", {"model": "mnist-dcgan", "steps": 4, "latent_a": z_of(4), "latent_b": z_of(9)})
        == plain
    )


def test_latent_terms_of_arithmetic(client):
    seeds = {
        "model": "mnist-dcgan",
        "terms": [{"seeds": [1, 2], "weight": 1}, {"seeds": [3], "weight": -1}, {"seeds": [5]}],
    }
    plain = post_json(client, "/arithmetic", seeds)
    want = [im["png"] for im in plain["images"]] + [t["png"] for t in plain["terms"]]
    mean = [float(v) for v in sampling.mean_latent([sampling.latent(1, 100), sampling.latent(2, 100)])]
    latent = {"model": "mnist-dcgan", "terms": [{"latent": mean}, {"latent": z_of(3), "weight": -1}, {"seeds": [5]}]}
    body = post_json(client, "/arithmetic", latent)
    assert [im["png"] for im in body["images"]] + [t["png"] for t in body["terms"]] == want
    one = {"model": "mnist-cgan", "terms": [{"latent": z_of(8), "seeds": [8]}]}
    assert pngs(client, "/arithmetic", one)[0] == single(client, "mnist-cgan", 8)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/generate", {"latent": [0.0] * 99}, ["body", "latent"]),
        ("/generate", {"latent": [0.0] * 101}, ["body", "latent"]),
        ("/generate", {"latent": []}, ["body", "latent"]),
        ("/generate", {"latent": [0.0] * 99 + [1e3]}, ["body", "latent", "99"]),
        ("/generate", {"latent": [0.0] * 99 + ["1"]}, ["body", "latent", "99"]),
        ("/generate", {"latent": [0.0] * 99 + [True]}, ["body", "latent", "99"]),
        ("/generate", {"latent": "0,0"}, ["body", "latent"]),
        ("/generate", {"latent": [0.0] * 100, "n": 2}, ["body", "n"]),
        ("/interpolate", {"seed_a": 1}, ["body", "seed_b"]),
        ("/interpolate", {"latent_a": [0.0] * 100}, ["body", "seed_b"]),
        ("/interpolate", {"seed_a": 1, "latent_b": [0.0] * 3}, ["body", "latent_b"]),
        ("/arithmetic", {"terms": [{"weight": 1}]}, ["body", "terms", "0", "seeds"]),
        ("/arithmetic", {"terms": [{"seeds": [1]}, {"latent": [0.0] * 7}]}, ["body", "terms", "1", "latent"]),
        ("/arithmetic", {"terms": [{"latent": [0.0] * 100, "seeds": [1, 2]}]}, ["body", "terms", "0", "seeds"]),
    ],
)
def test_bad_latents_are_422_naming_the_field(client, path, body, field):
    assert loc(client.post(path, json={"model": "mnist-dcgan"} | body)) == field


def test_non_finite_latents_are_422(client):
    raw = b'{"model": "mnist-dcgan", "latent": [' + b"0.0, " * 99 + b"NaN]}"
    r = client.post("/generate", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "latent" in r.text


def test_openapi_describes_latents_and_truncation(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for schema, fields in {
        "GenerateRequest": ("latent", "truncation"),
        "InterpolateRequest": ("latent_a", "latent_b", "truncation"),
        "ArithmeticTerm": ("latent",),
        "InfoGANRequest": ("truncation",),
    }.items():
        props = schemas[schema]["properties"]
        assert all(props[f].get("description") or props[f].get("anyOf") for f in fields), schema


def test_cli_latent_files(server, tmp_path):
    (tmp_path / "z.json").write_text(json.dumps(z_of(12)))
    (tmp_path / "enc.json").write_text(json.dumps({"latent": z_of(13), "label": None}))
    cli = [sys.executable, "-m", "gan_client.cli", "--url", server.url]
    runs = {
        "one.png": ["sample", "--model", "mnist-dcgan", "--latent-file", str(tmp_path / "z.json")],
        "walk.png": [
            "interpolate",
            "--model",
            "mnist-dcgan",
            "--latent-file-a",
            str(tmp_path / "z.json"),
            "--seed-b",
            "13",
        ],
        "sum.png": ["arithmetic", "--model", "mnist-dcgan", "--latent-term", f"{tmp_path / 'enc.json'}:1"],
    }
    for out, args in runs.items():
        done = subprocess.run([*cli, *args, "-o", str(tmp_path / out)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    with httpx.Client(base_url=server.url) as c:
        assert (tmp_path / "one.png").read_bytes() == c.post(
            "/generate", json={"model": "mnist-dcgan", "seed": 12}
        ).content
        walk = {"model": "mnist-dcgan", "seed_a": 12, "seed_b": 13, "steps": 8, "columns": 8}
        assert (tmp_path / "walk.png").read_bytes() == c.post("/interpolate", json=walk).content
        assert (tmp_path / "sum.png").read_bytes() == c.post(
            "/generate", json={"model": "mnist-dcgan", "seed": 13}
        ).content
    (tmp_path / "bad.json").write_text("[1, 2")
    done = subprocess.run([*cli, "sample", "--latent-file", str(tmp_path / "bad.json")], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.startswith("error:") and "Traceback" not in done.stderr


# ---------- images: POST /encode and `image` wherever a latent goes ----------

EXAMPLES = REPO / "docs" / "examples"


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def png_bytes(img: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def seven(client) -> dict:
    return post_json(client, "/encode", {"model": "mnist-dcgan", "image": b64(EXAMPLES / "digit-7.png")})


def test_models_lists_the_encoder_and_its_figures(client):
    info = client.get("/models/mnist-dcgan").json()
    manifest = json.loads((EXPORTED / "mnist-dcgan" / "manifest.json").read_text())
    assert info["encoder"]["sha256"] == manifest["encoder"]["sha256"]
    assert info["encoder"]["class_kept"] == manifest["encoder"]["metrics"]["class_kept"]
    assert client.get(f"/models/{NO_ENCODER}").json()["encoder"] is None


def test_encode_answers_a_latent_whose_image_is_the_reconstruction(client, seven):
    assert len(seven["latent"]) == 100 and seven["label"] is None and seven["codes"] is None
    assert decode(seven["source"]).size == (28, 28)
    assert 0 < seven["distance"] < 0.25
    again = pngs(client, "/generate", {"model": "mnist-dcgan", "latent": seven["latent"]})
    assert again == [seven["reconstruction"]]
    png = client.post("/generate", json={"model": "mnist-dcgan", "latent": seven["latent"]}).content
    assert png == base64.b64decode(seven["reconstruction"])
    source = np.asarray(decode(seven["source"]), np.float64)
    recon = np.asarray(decode(seven["reconstruction"]), np.float64)
    assert abs(np.abs(source - recon).mean() / 255 - seven["distance"]) < 0.01  # the same figure, from the PNGs


def test_an_infogan_latent_with_its_codes_gives_the_reconstruction(client):
    """docs/API.md: on an InfoGAN model, /encode's `latent` with its `codes` (to /generate, or as `categorical` and
    `continuous` to /infogan) gives `reconstruction` byte for byte; the latent alone keeps the seed's codes."""
    encoded = post_json(client, "/encode", {"model": "mnist-infogan", "image": b64(EXAMPLES / "digit-7.png")})
    latent, codes = encoded["latent"], encoded["codes"]
    assert len(latent) == 62 and set(codes) == {"categorical", "continuous"}
    body = {"model": "mnist-infogan", "latent": latent, "codes": codes}
    assert pngs(client, "/generate", body) == [encoded["reconstruction"]]
    assert client.post("/generate", json=body).content == base64.b64decode(encoded["reconstruction"])
    for seed in (1, 2, 3):  # the seed gives nothing once both are sent
        assert pngs(client, "/generate", body | {"seed": seed}) == [encoded["reconstruction"]]
    infogan = {"model": "mnist-infogan", "latent": latent, "categorical": codes["categorical"]}
    infogan["continuous"] = codes["continuous"]
    assert pngs(client, "/infogan", infogan) == [encoded["reconstruction"]]
    # without the codes a seed's codes are read: another image wherever they differ
    seed_codes = post_json(client, "/infogan", {"model": "mnist-infogan", "seed": 4})["images"][0]
    assert (seed_codes["categorical"], seed_codes["continuous"]) != (codes["categorical"], codes["continuous"])
    assert pngs(client, "/generate", {"model": "mnist-infogan", "latent": latent, "seed": 4}) != [
        encoded["reconstruction"]
    ]
    # codes without a latent replace the seed's codes of every image, as /infogan's do
    n3 = pngs(client, "/generate", {"model": "mnist-infogan", "seed": 5, "n": 3, "codes": codes})
    for i, png in enumerate(n3):
        one = {"model": "mnist-infogan", "seed": 5 + i, "categorical": codes["categorical"]}
        assert [png] == pngs(client, "/infogan", one | {"continuous": codes["continuous"]})


@pytest.mark.parametrize(
    ("model", "codes", "field"),
    [
        ("mnist-dcgan", {"categorical": 0, "continuous": [0.0, 0.0]}, ["body", "codes"]),
        ("mnist-infogan", {"categorical": 10, "continuous": [0.0, 0.0]}, ["body", "codes", "categorical"]),
        ("mnist-infogan", {"categorical": 1, "continuous": [0.0]}, ["body", "codes", "continuous"]),
        ("mnist-infogan", {"categorical": 1}, ["body", "codes", "continuous"]),
        ("mnist-infogan", {"categorical": -1, "continuous": [0.0, 0.0]}, ["body", "codes", "categorical"]),
    ],
)
def test_bad_codes_are_422_naming_the_field(client, model, codes, field):
    assert loc(client.post("/generate", json={"model": model, "seed": 1, "codes": codes})) == field


def test_cli_round_trips_an_infogan_encoding(server, tmp_path):
    """`gan encode x.png -o x.json`, then `gan sample --latent-file x.json` draws the reconstruction (and `gan
    infogan --latent-file` with the codes given)."""
    cli = [sys.executable, "-m", "gan_client.cli", "--url", server.url]
    enc = tmp_path / "seven.json"
    done = subprocess.run(
        [*cli, "encode", str(EXAMPLES / "digit-7.png"), "--model", "mnist-infogan", "-o", str(enc)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    encoded = json.loads(enc.read_text())
    recon = base64.b64decode(encoded["reconstruction"])
    out = tmp_path / "again.png"
    args = ["sample", "--model", "mnist-infogan", "--latent-file", str(enc), "-o", str(out)]
    done = subprocess.run([*cli, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == recon
    codes = encoded["codes"]
    cont = [str(v) for v in codes["continuous"]]
    args = [
        "infogan",
        "--model",
        "mnist-infogan",
        "--latent-file",
        str(enc),
        "--categorical",
        str(codes["categorical"]),
    ]
    done = subprocess.run([*cli, *args, "--continuous", *cont, "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == recon


def test_encoding_is_deterministic_and_the_source_reads_back_the_same(client, seven):
    body = {"model": "mnist-dcgan", "image": b64(EXAMPLES / "digit-7.png")}
    assert client.post("/encode", json=body).content == client.post("/encode", json=body).content
    assert post_json(client, "/encode", {"model": "mnist-dcgan", "image": seven["source"]})["latent"] == seven["latent"]


def test_a_multipart_upload_encodes_as_json_does(client, seven):
    files = {"image": ("seven.png", (EXAMPLES / "digit-7.png").read_bytes(), "image/png")}
    r = client.post("/encode", files=files, data={"model": "mnist-dcgan"})
    assert r.status_code == 200, r.text
    assert r.json() == seven
    assert loc(client.post("/encode", files=files, data={"model": "mnist-dcgan", "lable": "7"})) == ["body", "lable"]
    assert loc(client.post("/encode", data={"model": "mnist-dcgan"}, files={"x": ("x", b"1")})) == ["body", "x"]


def test_image_wherever_a_latent_goes(client, seven):
    image, latent = b64(EXAMPLES / "digit-7.png"), seven["latent"]
    base = {"model": "mnist-dcgan"}
    assert pngs(client, "/generate", base | {"image": image}) == pngs(client, "/generate", base | {"latent": latent})
    walk = base | {"steps": 5, "seed_b": 3}
    assert pngs(client, "/interpolate", walk | {"image_a": image}) == pngs(
        client, "/interpolate", walk | {"latent_a": latent}
    )
    two = b64(EXAMPLES / "digit-2.png")
    two_latent = post_json(client, "/encode", base | {"image": two})["latent"]
    both = pngs(client, "/interpolate", base | {"steps": 5, "image_a": image, "image_b": two})
    assert both == pngs(client, "/interpolate", base | {"steps": 5, "latent_a": latent, "latent_b": two_latent})
    assert both[0] == seven["reconstruction"]
    terms = [{"image": image}, {"image": two, "weight": -1}, {"seeds": [4]}]
    sent = [{"latent": latent}, {"latent": two_latent, "weight": -1}, {"seeds": [4]}]
    assert pngs(client, "/arithmetic", base | {"terms": terms}) == pngs(client, "/arithmetic", base | {"terms": sent})


def test_encode_reads_images_as_translate_does(client, seven):
    grey = Image.open(EXAMPLES / "digit-7.png").convert("L")
    ink_on_paper = Image.fromarray(255 - np.asarray(grey)).resize((280, 280), Image.BILINEAR)
    body = {"model": "mnist-dcgan", "image": base64.b64encode(png_bytes(ink_on_paper.convert("RGB"))).decode()}
    drawn = post_json(client, "/encode", body)  # a scan-like RGB drawing, dark ink on white, ten times the size
    assert drawn["distance"] < 0.25
    jpeg = base64.b64encode(png_bytes(ink_on_paper, "JPEG")).decode()
    assert len(post_json(client, "/encode", {"model": "mnist-dcgan", "image": jpeg})["latent"]) == 100
    # /translate reads the same uploads into the same pixels: its `source` is /encode's, byte for byte
    for image in (body["image"], jpeg, b64(EXAMPLES / "digit-7.png")):
        encoded = post_json(client, "/encode", {"model": "mnist-dcgan", "image": image})
        translated = post_json(client, "/translate", {"model": "mnist-cyclegan", "image": image, "format": "json"})
        assert translated["source"] == encoded["source"]


@pytest.mark.parametrize(
    ("image", "words"),
    [
        (base64.b64encode(b"GIF89a" + bytes(40)).decode(), "GIF"),
        (base64.b64encode(b"hello, not an image").decode(), "not an image"),
        ("not base64!", "base64"),
        (base64.b64encode(png_bytes(Image.new("L", (4097, 8)))).decode(), "4096"),
        (base64.b64encode(png_bytes(Image.new("L", (4, 4)))).decode(), "8"),
        (base64.b64encode(png_bytes(Image.new("LA", (28, 28), (0, 0)))).decode(), "transparent"),
        (base64.b64encode(png_bytes(Image.new("I;16", (28, 28)))).decode(), "16-bit"),
        (base64.b64encode(png_bytes(Image.new("CMYK", (28, 28)), "JPEG")).decode(), "CMYK"),
    ],
)
def test_bad_images_are_422_saying_why(client, image, words):
    for path, body, field in (
        ("/encode", {"image": image}, ["body", "image"]),
        ("/generate", {"image": image}, ["body", "image"]),
        ("/interpolate", {"seed_a": 1, "image_b": image}, ["body", "image_b"]),
        ("/arithmetic", {"terms": [{"image": image}]}, ["body", "terms", "0", "image"]),
    ):
        r = client.post(path, json={"model": "mnist-dcgan"} | body)
        assert loc(r) == field and words in r.json()["detail"][0]["msg"], (path, r.text)


def test_encode_refusals(client, seven):
    image = b64(EXAMPLES / "digit-7.png")
    assert loc(client.post("/encode", json={"model": NO_ENCODER, "image": image})) == ["body", "model"]
    assert loc(client.post("/generate", json={"model": NO_ENCODER, "image": image})) == ["body", "image"]
    assert loc(client.post("/encode", json={"model": "mnist-dcgan"})) == ["body", "image"]
    assert loc(client.post("/encode", json={"model": "mnist-dcgan", "image": image, "lable": 1})) == ["body", "lable"]
    assert loc(client.post("/encode", json={"model": "mnist-dcgan", "image": image, "label": 1})) == ["body", "label"]
    both = {"model": "mnist-dcgan", "image": image, "latent": seven["latent"]}
    assert loc(client.post("/generate", json=both)) == ["body", "image"]
    r = client.post("/encode", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and "multipart" in r.json()["detail"]
    r = client.post("/encode", content=b"x", headers={"content-type": "multipart/form-data; boundary=zz"})
    assert loc(r) == ["body", "body"]
    assert client.post("/encode", json={"model": "nope", "image": image}).status_code == 404


def test_a_mismatched_encoder_keeps_its_model_off(tmp_path):
    """An encoder listed for another version of model.onnx, or whose file does not match, is refused with the model."""
    for name, change in {"other-g": {"generator_sha256": "0" * 64}, "bad-sum": {"sha256": "1" * 64}}.items():
        folder = tmp_path / name
        folder.mkdir()
        for f in ("model.onnx", "encoder.onnx"):
            (folder / f).symlink_to(EXPORTED / "mnist-dcgan" / f)
        manifest = json.loads((EXPORTED / "mnist-dcgan" / "manifest.json").read_text())
        manifest["name"] = name
        manifest["encoder"] |= change
        (folder / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "mnist-cgan").symlink_to(EXPORTED / "mnist-cgan", target_is_directory=True)
    with serving(tmp_path, tmp_path.parent / "mismatch.log", max_batch=2, threads=1) as launched:
        failed = httpx.get(f"{launched.url}/readyz").json()["failed"]
    assert "another model.onnx" in failed["other-g"] and "sha256 of encoder.onnx" in failed["bad-sum"]


def test_client_and_cli_encode_and_send_images(server, tmp_path, seven):
    from gan_client import GanClient

    seven_png, two_png = EXAMPLES / "digit-7.png", EXAMPLES / "digit-2.png"
    with GanClient(server.url) as gan:
        assert gan.encode(seven_png.read_bytes(), model="mnist-dcgan") == seven
        two = gan.encode(two_png.read_bytes(), model="mnist-dcgan")
        walk = gan.interpolate(
            None, None, "mnist-dcgan", steps=4, image_a=seven_png.read_bytes(), latent_b=two["latent"]
        )
        assert walk == gan.interpolate(
            None, None, "mnist-dcgan", steps=4, latent_a=seven["latent"], latent_b=two["latent"]
        )
    cli = [sys.executable, "-m", "gan_client.cli", "--url", server.url]
    runs = {
        "seven.json": ["encode", str(seven_png), "--model", "mnist-dcgan", "--reconstruction", str(tmp_path / "r.png")],
        "one.png": ["sample", "--model", "mnist-dcgan", "--image", str(seven_png)],
        "walk.png": ["interpolate", "--model", "mnist-dcgan", "--image-a", str(seven_png), "--image-b", str(two_png)],
        "sum.png": ["arithmetic", "--model", "mnist-dcgan", "--image-term", f"{seven_png}:1", "--term", "4:0"],
    }
    for out, args in runs.items():
        done = subprocess.run([*cli, *args, "-o", str(tmp_path / out)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "seven.json").read_text()) == seven
    recon = base64.b64decode(seven["reconstruction"])
    assert (tmp_path / "r.png").read_bytes() == recon == (tmp_path / "one.png").read_bytes()
    assert (tmp_path / "sum.png").read_bytes() == recon  # 1 × the seven + 0 × seed 4
    walk = {"model": "mnist-dcgan", "latent_a": seven["latent"], "latent_b": two["latent"], "steps": 8, "columns": 8}
    with httpx.Client(base_url=server.url) as c:
        assert (tmp_path / "walk.png").read_bytes() == c.post("/interpolate", json=walk).content
    done = subprocess.run([*cli, "encode", str(tmp_path / "missing.png")], capture_output=True, text=True)
    assert done.returncode == 1 and "missing.png" in done.stderr and "Traceback" not in done.stderr


def test_every_committed_encoder_serves_and_inverts_into_its_own_latents(client):
    """Each model folder whose manifest lists an encoder is served with it, its figures on /models."""
    committed = {p.parent.name for p in EXPORTED.glob("*/encoder.onnx")}
    assert {"mnist-dcgan", "mnist-cgan", "mnist-infogan", "fashion-dcgan", "fashion-cgan"} <= committed
    boot = post_json(client, "/encode", {"model": "fashion-dcgan", "image": b64(EXAMPLES / "fashion-ankle-boot.png")})
    assert pngs(client, "/generate", {"model": "fashion-dcgan", "latent": boot["latent"]}) == [boot["reconstruction"]]
    info = client.get("/models/fashion-dcgan").json()["encoder"]
    assert info["class_kept"] >= 0.8 and info["generator_effective_rank"] < 50
    # mnist-cgan's, trained against G rebuilt from its model.onnx (its checkpoint is gone)
    seven = post_json(client, "/encode", {"model": "mnist-cgan", "image": b64(EXAMPLES / "digit-7.png"), "label": 7})
    assert (seven["label"], len(seven["latent"])) == (7, 100)
    again = {"model": "mnist-cgan", "latent": seven["latent"], "label": 7}
    assert pngs(client, "/generate", again) == [seven["reconstruction"]]
    assert client.get("/models/mnist-cgan").json()["encoder"]["class_kept"] >= 0.9


def test_a_conditional_encoder_reads_the_label(client):
    """fashion-cgan's encoder reads the image's class: required on /encode, the label in effect elsewhere."""
    boot = b64(EXAMPLES / "fashion-ankle-boot.png")
    body = {"model": "fashion-cgan", "image": boot}
    assert loc(client.post("/encode", json=body)) == ["body", "label"]
    named = post_json(client, "/encode", body | {"label": "Ankle boot"})
    assert (named["label"], named["class_name"]) == (9, "Ankle boot")
    assert post_json(client, "/encode", body | {"label": 9}) == named
    as_latent = {"model": "fashion-cgan", "latent": named["latent"], "label": 9}
    assert pngs(client, "/generate", as_latent) == [named["reconstruction"]]
    assert pngs(client, "/generate", body | {"label": 9}) == [named["reconstruction"]]
    drawn = post_json(client, "/generate", {"model": "fashion-cgan", "seed": 30})["images"][0]["label"]
    read = post_json(client, "/encode", body | {"label": drawn})["latent"]  # without a label: the seed's
    seeded = {"model": "fashion-cgan", "seed": 30}
    assert pngs(client, "/generate", seeded | {"image": boot}) == pngs(client, "/generate", seeded | {"latent": read})
    files = {"image": ("boot.png", (EXAMPLES / "fashion-ankle-boot.png").read_bytes(), "image/png")}
    r = client.post("/encode", files=files, data={"model": "fashion-cgan", "label": "9"})
    assert r.status_code == 200 and r.json() == named


# ---------- an InfoGAN encoder (a tiny one: no InfoGAN checkpoint is committed to train one from) ----------


def tiny_infogan_encoder(path: Path, latent_dim: int = 6, n_cat: int = 10, k: int = 2, size: int = 8) -> None:
    """image → Flatten → three Gemms: latent, the argmax of categorical logits (int64), continuous codes."""
    rng = np.random.default_rng(3)
    pixels = size * size
    inits = [
        numpy_helper.from_array(rng.normal(0, 0.3, (pixels, n)).astype(np.float32), name)
        for name, n in (("Wz", latent_dim), ("Wc", n_cat), ("Wk", k))
    ]
    nodes = [
        helper.make_node("Flatten", ["image"], ["flat"]),
        helper.make_node("Gemm", ["flat", "Wz"], ["latent"]),
        helper.make_node("Gemm", ["flat", "Wc"], ["logits"]),
        helper.make_node("ArgMax", ["logits"], ["c_cat"], axis=1, keepdims=0),
        helper.make_node("Gemm", ["flat", "Wk"], ["c_cont"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_encoder",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, size, size])],
        [
            helper.make_tensor_value_info("latent", TensorProto.FLOAT, ["N", latent_dim]),
            helper.make_tensor_value_info("c_cat", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("c_cont", TensorProto.FLOAT, ["N", k]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def test_an_infogan_encoder_gives_the_codes(tmp_path):
    folder = write_tiny_model(tmp_path, "tiny-infogan", **TINY_KINDS["tiny-infogan"])
    tiny_infogan_encoder(folder / "encoder.onnx")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["encoder"] = {
        "file": "encoder.onnx",
        "sha256": hashlib.sha256((folder / "encoder.onnx").read_bytes()).hexdigest(),
        "generator_sha256": manifest["sha256"],
        "inputs": [{"name": "image", "dtype": "float32", "shape": ["N", 1, 8, 8]}],
        "outputs": [
            {"name": "latent", "dtype": "float32", "shape": ["N", 6]},
            {"name": "c_cat", "dtype": "int64", "shape": ["N"]},
            {"name": "c_cont", "dtype": "float32", "shape": ["N", 2]},
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    image = b64(EXAMPLES / "digit-7.png")
    with serving(tmp_path, tmp_path.parent / "infogan.log", max_batch=2, threads=1) as launched, launched.client() as c:
        encoded = post_json(c, "/encode", {"model": "tiny-infogan", "image": image})
        assert len(encoded["latent"]) == 6 and set(encoded["codes"]) == {"categorical", "continuous"}
        assert 0 <= encoded["codes"]["categorical"] < 10 and len(encoded["codes"]["continuous"]) == 2
        # /generate with the image uses the encoder's codes too: the same bytes as the reconstruction
        assert pngs(c, "/generate", {"model": "tiny-infogan", "image": image, "seed": 1}) == [encoded["reconstruction"]]
        # a sent latent keeps the seed's codes, so it differs where the codes do
        sent_latent = pngs(c, "/generate", {"model": "tiny-infogan", "latent": encoded["latent"], "seed": 1})
        seed_codes = post_json(c, "/infogan", {"model": "tiny-infogan", "seed": 1})["images"][0]
        codes = encoded["codes"]
        differ = (seed_codes["categorical"], seed_codes["continuous"]) != (codes["categorical"], codes["continuous"])
        assert differ and sent_latent != [encoded["reconstruction"]]
