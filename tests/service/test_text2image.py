"""POST /text2image against the real server and the committed StackGAN."""

import math

import pytest

from .helpers import decode, post_json


@pytest.fixture(scope="module")
def stackgan(server):
    return server.find("text2image")


def test_models_lists_the_vocabulary(client, stackgan):
    info = client.get(f"/models/{stackgan['name']}").json()
    text = info["text"]
    assert info["kind"] == "text2image" and info["directions"] is None
    assert {"seven", "thick", "slanted", "small"} <= set(text["vocabulary"]) and text["max_tokens"] >= 5
    assert set(text["attributes"]) == {"thickness", "slant", "size"} and len(text["class_words"]) == 10
    assert "class_accuracy" in info["metrics"]


def test_png_grid_and_headers(client, stackgan):
    r = client.post("/text2image", json={"model": stackgan["name"], "text": "a thick seven", "seed": 4, "n": 4})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["x-model"] == stackgan["name"] and r.headers["x-seed"] == "4"
    assert r.headers["x-unknown-words"] == ""
    assert decode(r.content).size == (56, 56)


def test_unknown_words_are_reported_and_the_rest_is_read(client, stackgan):
    body = post_json(client, "/text2image", {"model": stackgan["name"], "text": "A thikc, slanted SEVEN!", "seed": 1})
    assert body["words"] == ["a", "slanted", "seven"] and body["unknown_words"] == ["thikc"]
    r = client.post("/text2image", json={"model": stackgan["name"], "text": "a thikc seven plz", "seed": 1})
    assert r.headers["x-unknown-words"] == "thikc,plz"
    clean = post_json(client, "/text2image", {"model": stackgan["name"], "text": "a slanted seven", "seed": 1})
    assert clean["unknown_words"] == [] and clean["images"] == body["images"]  # unknown words change nothing


def test_image_i_is_the_single_image_of_seed_plus_i(client, stackgan):
    text = "a thin upright two"
    many = post_json(client, "/text2image", {"model": stackgan["name"], "text": text, "seed": 30, "n": 5})
    assert [im["seed"] for im in many["images"]] == list(range(30, 35))
    for i in (0, 3):
        one = post_json(client, "/text2image", {"model": stackgan["name"], "text": text, "seed": 30 + i})
        assert one["images"][0] == many["images"][i]
    for im in many["images"]:
        assert decode(im["png"]).size == (28, 28) and decode(im["stage1"]).size == (14, 14)
    assert len({im["png"] for im in many["images"]}) == 5


def test_same_request_same_bytes_and_text_matters(client, stackgan):
    body = {"model": stackgan["name"], "text": "a large nine", "seed": 8, "n": 3}
    first = client.post("/text2image", json=body).content
    assert client.post("/text2image", json=body).content == first
    assert client.post("/text2image", json=body | {"text": "a large one"}).content != first


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("   ", "no word"),
        ("1234 !!", "no word"),
        ("hello world", "no word of the text is in the vocabulary"),
        ("a thick thin slanted upright small large medium seven", "at most"),
    ],
)
def test_text_the_model_cannot_read_is_a_422(client, stackgan, text, words):
    r = client.post("/text2image", json={"model": stackgan["name"], "text": text})
    assert r.status_code == 422, r.text
    (err,) = r.json()["detail"]
    assert err["loc"] == ["body", "text"] and words in err["msg"]


def test_schema_errors(server, client, stackgan):
    assert client.post("/text2image", json={"model": stackgan["name"], "text": ""}).status_code == 422
    assert client.post("/text2image", json={"model": stackgan["name"], "text": "a one", "n": 0}).status_code == 422
    r = client.post("/text2image", json={"model": server.find("translator")["name"], "text": "a one"})
    assert r.status_code == 422 and "/translate" in r.json()["detail"][0]["msg"]
    r = client.post("/generate", json={"model": stackgan["name"]})
    assert r.status_code == 422 and "/text2image" in r.json()["detail"][0]["msg"]


def test_n_is_bounded_like_generate(client, stackgan):
    r = client.post("/text2image", json={"model": stackgan["name"], "text": "a one", "n": 257})
    assert r.status_code == 422
    ok = client.post("/text2image", json={"model": stackgan["name"], "text": "a one", "n": 10, "columns": 5})
    assert decode(ok.content).size == (5 * 28, math.ceil(10 / 5) * 28)
