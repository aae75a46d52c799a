"""POST /translate against the real server and the committed CycleGAN."""

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from .helpers import decode, post_json


@pytest.fixture(scope="module")
def translator(server):
    return server.find("translator")


def png_b64(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_models_lists_the_translator_with_its_directions(client, translator):
    info = client.get(f"/models/{translator['name']}").json()
    assert info["kind"] == "translator" and set(info["directions"]) == {"a2b", "b2a"}
    assert info["directions"]["a2b"]["source"] == info["directions"]["b2a"]["target"]
    assert info["directions"]["a2b"]["bank_images"] >= 64
    assert "cycle_l1_a" in info["metrics"] and info["text"] is None
    assert client.get(f"/models/{translator['name']}/samples.png").status_code == 200


@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_seed_mode_returns_source_and_translation(client, translator, direction):
    name = translator["name"]
    r = client.post("/translate", json={"model": name, "direction": direction, "seed": 5})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert (r.headers["x-model"], r.headers["x-direction"], r.headers["x-seed"]) == (name, direction, "5")
    pair = decode(r.content)
    assert pair.mode == "L" and pair.size == (56, 28)
    body = post_json(client, "/translate", {"model": name, "direction": direction, "seed": 5})
    assert body["seed"] == 5 and 0 <= body["bank_index"] < translator["directions"][direction]["bank_images"]
    source, translation = decode(body["source"]), decode(body["translation"])
    assert source.tobytes() == pair.crop((0, 0, 28, 28)).tobytes()
    assert translation.tobytes() == pair.crop((28, 0, 56, 28)).tobytes()
    assert np.asarray(source).std() > 1 and np.asarray(translation).std() > 1
    want = translator["directions"][direction]
    assert (body["source_domain"], body["target_domain"]) == (want["source"], want["target"])


def test_same_request_same_bytes(client, translator):
    for fmt in ("png", "json"):
        body = {"model": translator["name"], "direction": "b2a", "seed": 17, "format": fmt}
        assert client.post("/translate", json=body).content == client.post("/translate", json=body).content


def test_an_uploaded_png_translates_like_the_bank_image_it_shows(client, translator):
    seeded = post_json(client, "/translate", {"model": translator["name"], "seed": 9})
    sent = post_json(client, "/translate", {"model": translator["name"], "image": seeded["source"]})
    assert sent["seed"] is None and sent["bank_index"] is None
    assert sent["source"] == seeded["source"] and sent["translation"] == seeded["translation"]
    rgb = decode(seeded["source"]).convert("RGB")  # colour PNGs are read as grey
    as_rgb = post_json(client, "/translate", {"model": translator["name"], "image": png_b64(rgb)})
    assert as_rgb["translation"] == seeded["translation"]


def ink(b64: str) -> float:
    return float(np.asarray(decode(b64), dtype=np.float64).mean())


def test_the_translation_changes_stroke_thickness_both_ways(client, translator):
    """a2b adds ink to every one of 16 bank images and b2a removes some, by 10 grey levels per pixel on average
    (the true 3×3 dilation adds about 40)."""
    for direction, sign in (("a2b", 1), ("b2a", -1)):
        change = []
        for seed in range(16):
            body = post_json(client, "/translate", {"model": translator["name"], "direction": direction, "seed": seed})
            change.append(sign * (ink(body["translation"]) - ink(body["source"])))
        assert min(change) > 0 and np.mean(change) > 10, (direction, change)


def test_seeds_pick_different_bank_images(client, translator):
    picked = {post_json(client, "/translate", {"model": translator["name"], "seed": s})["bank_index"] for s in range(8)}
    assert len(picked) >= 6


def _png_of_size(w: int, h: int) -> str:
    return png_b64(Image.new("L", (w, h), 128))


def _header_only_png(w: int, h: int) -> str:
    """A PNG that claims w×h grey pixels and holds none: costs nothing to send, much to decode."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + chunk + end).decode()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"image": base64.b64encode(b"GIF89a not a png").decode()}, "image", "not a PNG"),
        ({"image": "***"}, "image", "base64"),
        ({"image": _png_of_size(29, 28)}, "image", "29×28"),
        ({"image": _png_of_size(600, 600)}, "image", "600×600"),
        ({"image": _header_only_png(60000, 60000)}, "image", "larger than 28×28"),
        ({"image": _header_only_png(28, 28)}, "image", "cannot be decoded"),
        ({"image": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode()}, "image", "cannot be decoded"),
        ({"image": "A" * 5124}, "image", "at most 5120 characters"),
        ({"seed": 1, "direction": "c2d"}, "direction", "a2b"),
        ({"seed": 1, "image": _png_of_size(28, 28)}, "image", "not both"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, translator, body, field, words):
    r = client.post("/translate", json={"model": translator["name"], **body})
    assert r.status_code == 422, r.text
    (err,) = r.json()["detail"]
    assert err["loc"] == ["body", field] and words in err["msg"]


def test_too_large_a_body_is_413(client, translator):
    noise = np.random.default_rng(0).integers(0, 256, (300, 300), dtype=np.uint8)  # incompressible
    r = client.post("/translate", json={"model": translator["name"], "image": png_b64(Image.fromarray(noise))})
    assert r.status_code == 413


def test_a_model_of_another_kind_is_a_clear_422(server, client, translator):
    generator = server.find("unconditional")["name"]
    r = client.post("/translate", json={"model": generator, "seed": 1})
    assert r.status_code == 422 and "/generate" in r.json()["detail"][0]["msg"]
    for path, body in (
        ("/generate", {}),
        ("/interpolate", {"seed_a": 1, "seed_b": 2}),
        ("/arithmetic", {"terms": [{"seeds": [1]}]}),
        ("/infogan", {"seed": 1}),
    ):
        r = client.post(path, json={"model": translator["name"], **body})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"][0]["loc"] == ["body", "model"] and "/translate" in r.json()["detail"][0]["msg"]
    r = client.post(
        f"/v2/models/{translator['name']}/infer",
        json={"inputs": [{"name": "seed", "shape": [1], "datatype": "INT64", "data": [1]}]},
    )
    assert r.status_code == 404 and "/translate" in r.json()["error"]  # v2 serves generators only
    assert client.post("/translate", json={"model": "no-such-model", "seed": 1}).status_code == 404
