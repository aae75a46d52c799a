"""POST /translate against the real server and the committed CycleGAN."""

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from .conftest import REPO
from .helpers import decode, post_json

EXAMPLES = REPO / "docs" / "examples"


@pytest.fixture(scope="module")
def translator(server):
    return server.find("translator")


def _encoded(img: Image.Image, fmt: str, **options: object) -> str:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return base64.b64encode(buf.getvalue()).decode()


def png_b64(img: Image.Image) -> str:
    return _encoded(img, "PNG")


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


def test_a_png_with_transparent_pixels_is_refused_with_the_reason(client, translator):
    """A drawing app's export, a black stroke on a transparent background, would read as all black."""
    stroke = Image.new("RGBA", (28, 28), (0, 0, 0, 0))
    ImageDraw.Draw(stroke).line([(14, 4), (14, 24)], fill=(0, 0, 0, 255), width=3)
    grey_alpha = stroke.convert("LA")
    palette = Image.new("P", (28, 28), 0)
    palette.info["transparency"] = 0  # a tRNS chunk: colour 0 is transparent
    for img in (stroke, grey_alpha, palette):
        r = client.post("/translate", json={"model": translator["name"], "image": png_b64(img)})
        assert r.status_code == 422, (img.mode, r.text)
        (err,) = r.json()["detail"]
        assert err["loc"] == ["body", "image"] and "transparent" in err["msg"] and "black" in err["msg"], err
    seeded = post_json(client, "/translate", {"model": translator["name"], "seed": 9})
    opaque = decode(seeded["source"]).convert("RGBA")  # an alpha channel that is opaque everywhere is fine
    sent = post_json(client, "/translate", {"model": translator["name"], "image": png_b64(opaque)})
    assert sent["translation"] == seeded["translation"]


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
        ({"image": base64.b64encode(b"GIF89a not a png").decode()}, "image", "a GIF file, not a PNG or JPEG"),
        ({"image": base64.b64encode(b"<svg></svg>").decode()}, "image", "not a PNG or JPEG"),
        ({"image": "***"}, "image", "base64"),
        ({"image": _png_of_size(4, 28)}, "image", "the image is 4×28; send at least 8×8"),
        ({"image": _header_only_png(5000, 300)}, "image", "the image is 5000×300; send at most 4096×4096"),
        ({"image": _header_only_png(60000, 60000)}, "image", "larger than 4096×4096"),
        ({"image": _header_only_png(28, 28)}, "image", "the PNG cannot be decoded"),
        ({"image": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode()}, "image", "cannot be decoded"),
        ({"image": _encoded(Image.new("I;16", (28, 28)), "PNG")}, "image", "the PNG is 16-bit grey"),
        ({"image": _encoded(Image.new("CMYK", (28, 28)), "JPEG")}, "image", "the JPEG is CMYK, 4 ink channels"),
        ({"image": _encoded(Image.new("L", (28, 28)), "JPEG")[:200]}, "image", "the JPEG cannot be decoded"),
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


def _source(client, translator, image: str) -> np.ndarray:
    """The source the model read, as /translate reports it."""
    body = post_json(client, "/translate", {"model": translator["name"], "image": image})
    assert ink(body["translation"]) > ink(body["source"])  # a2b thickens: the model read a digit
    return np.asarray(decode(body["source"]), dtype=np.float64)


def test_a_png_or_jpeg_of_any_size_is_read_at_28x28_light_on_dark(client, translator):
    """The issue's case, a 112×112 JPEG of a test digit, reads like the 28×28 PNG; so do colour and dark-on-light
    (scanned) versions. An image of the model's size keeps its pixels."""
    digit = Image.open(EXAMPLES / "digit-7.png")
    want = np.asarray(digit, dtype=np.float64)
    assert np.array_equal(_source(client, translator, png_b64(digit)), want)
    big = digit.resize((112, 112), Image.Resampling.BICUBIC)
    for what, image in {
        "112×112 JPEG": _encoded(big, "JPEG", quality=90),
        "112×112 RGB PNG": png_b64(big.convert("RGB")),
        "112×112 dark-on-light JPEG": _encoded(ImageOps.invert(big).convert("RGB"), "JPEG", quality=90),
    }.items():
        assert np.abs(_source(client, translator, image) - want).mean() < 6, what


def test_a_non_square_image_is_padded_with_its_ground_not_stretched(client, translator):
    digit = Image.open(EXAMPLES / "digit-7.png").resize((112, 112), Image.Resampling.BICUBIC)
    wide = Image.new("L", (168, 112), 0)
    wide.paste(digit, (28, 0))  # 3:2, and dark on light once inverted
    source = _source(client, translator, _encoded(ImageOps.invert(wide), "JPEG", quality=90))
    square = Image.new("L", (168, 168), 0)
    square.paste(wide, (0, 28))  # as documented: padded above and below with the ground, then scaled
    padded = np.asarray(square.resize((28, 28), Image.Resampling.BILINEAR), dtype=np.float64)
    stretched = np.asarray(wide.resize((28, 28), Image.Resampling.BILINEAR), dtype=np.float64)
    assert np.abs(source - padded).mean() < 3 < 10 < np.abs(source - stretched).mean()
