"""POST /generate against the real server."""

import math

import pytest
from fastapi.responses import JSONResponse

from service.schemas.generate import GenerateResponse

from .helpers import assert_image, decode, post_json, single


@pytest.mark.parametrize("kind", ["unconditional", "conditional", "infogan"])
def test_one_png(server, client, kind):
    info = server.find(kind)
    r = client.post("/generate", json={"model": info["name"], "seed": 3})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["x-model"] == info["name"] and r.headers["x-seed"] == "3"
    assert_image(decode(r.content), info)


def test_rgb_model_gives_rgb(server, client):
    r = client.post("/generate", json={"model": "tiny-rgb", "seed": 1})
    assert_image(decode(r.content), server.models["tiny-rgb"])


@pytest.mark.parametrize("n", [2, 5, 10])
def test_grid_layout(server, client, n):
    info = server.find("unconditional")
    r = client.post("/generate", json={"model": info["name"], "seed": 11, "n": n})
    cols = math.ceil(math.sqrt(n))
    grid = decode(r.content)
    assert_image(grid, info, cols, math.ceil(n / cols))
    body = post_json(client, "/generate", {"model": info["name"], "seed": 11, "n": n})
    tiles = [decode(im["png"]) for im in body["images"]]
    w, h = info["image"]["width"], info["image"]["height"]
    for i, tile in enumerate(tiles):  # row-major placement, tile i = image of seed 11 + i
        r_, c_ = divmod(i, cols)
        assert grid.crop((c_ * w, r_ * h, (c_ + 1) * w, (r_ + 1) * h)).tobytes() == tile.tobytes()


def test_columns_override(server, client):
    info = server.find("unconditional")
    r = client.post("/generate", json={"model": info["name"], "seed": 1, "n": 6, "columns": 6})
    assert_image(decode(r.content), info, 6, 1)


def test_json_format(server, client):
    info = server.find("conditional")
    body = post_json(client, "/generate", {"model": info["name"], "seed": 20, "n": 3})
    assert body["model"] == info["name"] and body["seed"] == 20 and body["n"] == 3
    assert [im["seed"] for im in body["images"]] == [20, 21, 22]
    for im in body["images"]:
        assert 0 <= im["label"] < info["num_classes"] and im["class_name"] == info["class_names"][im["label"]]
        assert_image(decode(im["png"]), info)


@pytest.mark.parametrize("kind", ["unconditional", "conditional"])
def test_json_bytes_are_the_response_model_s(server, client, kind):
    """The route writes GenerateResponse's JSON as plain data: the bytes must be what the model renders."""
    r = client.post("/generate", json={"model": server.find(kind)["name"], "seed": 5, "n": 20, "format": "json"})
    assert r.status_code == 200, r.text
    assert r.content == JSONResponse(GenerateResponse.model_validate_json(r.content).model_dump(mode="json")).body


def test_server_draws_and_reports_a_seed(server, client):
    info = server.find("unconditional")
    r = client.post("/generate", json={"model": info["name"]})
    seed = int(r.headers["x-seed"])
    assert (
        0 <= seed < 2**32 and r.content == client.post("/generate", json={"model": info["name"], "seed": seed}).content
    )


def test_the_default_model_is_mnist_dcgan(server, client):
    """GAN_DEFAULT_MODEL's default (the best MNIST unconditional generator) answers requests that name none."""
    if "mnist-dcgan" not in server.models:
        pytest.skip("mnist-dcgan is not exported")
    assert client.get("/models").json()["default"] == "mnist-dcgan"
    r = client.post("/generate", json={})
    assert r.status_code == 200 and r.headers["x-model"] == "mnist-dcgan" and decode(r.content).size == (28, 28)
    named = client.post("/generate", json={"model": "mnist-dcgan", "seed": int(r.headers["x-seed"])})
    assert r.content == named.content


def test_seeds_wrap_around(server, client):
    info = server.find("unconditional")
    body = post_json(client, "/generate", {"model": info["name"], "seed": 2**32 - 1, "n": 2})
    assert [im["seed"] for im in body["images"]] == [2**32 - 1, 0]
    assert body["images"][1]["png"] == single(client, info["name"], 0)


def test_label_by_index_or_name(server, client):
    info = server.find("conditional")
    name, cls = info["name"], info["class_names"][3]
    by_index = post_json(client, "/generate", {"model": name, "seed": 8, "n": 2, "label": 3})
    by_name = post_json(client, "/generate", {"model": name, "seed": 8, "n": 2, "label": cls})
    assert by_index == by_name and all(im["label"] == 3 for im in by_index["images"])
    r = client.post("/generate", json={"model": name, "seed": 8, "n": 2, "label": 3})
    assert r.headers["x-label"] == "3,3"


def test_drawn_label_comes_from_the_seed(server, client):
    info = server.find("conditional")
    drawn = post_json(client, "/generate", {"model": info["name"], "seed": 31})["images"][0]
    given = single(client, info["name"], 31, label=drawn["label"])
    assert drawn["png"] == given
