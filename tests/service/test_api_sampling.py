"""POST /interpolate, /arithmetic and /infogan against the real server."""

import math

import pytest

from .helpers import assert_image, decode, post_json, single


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_interpolation_frames_and_endpoints(server, client, method):
    info = server.find("unconditional")
    name = info["name"]
    body = post_json(client, "/interpolate", {"model": name, "seed_a": 4, "seed_b": 9, "steps": 6, "method": method})
    frames = body["images"]
    assert [f["t"] for f in frames] == [k / 5 for k in range(6)]
    assert [f["seed"] for f in frames] == [4, None, None, None, None, 9]
    assert frames[0]["png"] == single(client, name, 4) and frames[-1]["png"] == single(client, name, 9)
    assert len({f["png"] for f in frames}) == 6
    r = client.post("/interpolate", json={"model": name, "seed_a": 4, "seed_b": 9, "steps": 6, "method": method})
    assert r.headers["x-seed"] == "4,9"
    assert_image(decode(r.content), info, 3, 2)


def test_slerp_and_lerp_differ_between_the_ends(server, client):
    name = server.find("unconditional")["name"]
    req = {"model": name, "seed_a": 1, "seed_b": 2, "steps": 3}
    assert (
        post_json(client, "/interpolate", req)["images"][1]
        != post_json(client, "/interpolate", req | {"method": "lerp"})["images"][1]
    )


def test_conditional_interpolation_switches_label_halfway(server, client):
    info = server.find("conditional")
    assert info["label_blend"] is False
    name, cls = info["name"], info["class_names"][2]
    body = post_json(client, "/interpolate", {"model": name, "seed_a": 5, "seed_b": 6, "label_a": 1, "label_b": cls})
    assert (body["label_a"], body["label_b"]) == (1, 2)
    assert [f["label"] for f in body["images"]] == [1, 1, 1, 1, 2, 2, 2, 2]  # t = 4/7 is the first >= 0.5
    assert body["images"][0]["png"] == single(client, name, 5, label=1)
    assert body["images"][-1]["png"] == single(client, name, 6, label=2)


def test_conditional_interpolation_label_defaults(server, client):
    name = server.find("conditional")["name"]
    drawn = post_json(client, "/generate", {"model": name, "seed": 5})["images"][0]["label"]
    body = post_json(client, "/interpolate", {"model": name, "seed_a": 5, "seed_b": 6, "steps": 2})
    assert body["label_a"] == body["label_b"] == drawn  # label_a drawn from seed_a, label_b = label_a
    assert body["images"][-1]["png"] == single(client, name, 6, label=drawn)


@pytest.mark.parametrize("kind", ["unconditional", "conditional", "infogan"])
def test_single_term_arithmetic_equals_generate(server, client, kind):
    name = server.find(kind)["name"]
    body = post_json(client, "/arithmetic", {"model": name, "terms": [{"seeds": [77], "weight": 1}]})
    assert body["images"][0]["png"] == single(client, name, 77)
    png = client.post("/arithmetic", json={"model": name, "terms": [{"seeds": [77]}]}).content
    assert png == client.post("/generate", json={"model": name, "seed": 77}).content
    # the mean of a seed with itself is that seed's latent, bit for bit
    assert pngs_equal(client, name, [{"seeds": [77, 77]}], single(client, name, 77))


def pngs_equal(client, name, terms, expected):
    return post_json(client, "/arithmetic", {"model": name, "terms": terms})["images"][0]["png"] == expected


def test_arithmetic_returns_each_terms_mean_image(server, client):
    info = server.find("conditional")
    name = info["name"]
    terms = [{"seeds": [1, 2, 3], "weight": 1, "label": 4}, {"seeds": [4, 5], "weight": -1}, {"seeds": [6]}]
    body = post_json(client, "/arithmetic", {"model": name, "terms": terms, "label": 7})
    assert body["label"] == 7 and body["images"][0]["label"] == 7 and len(body["terms"]) == 3
    assert [t["seeds"] for t in body["terms"]] == [[1, 2, 3], [4, 5], [6]] and body["terms"][0]["label"] == 4
    assert body["terms"][2]["png"] == single(client, name, 6)  # a one-seed term's mean image
    for t in body["terms"]:
        assert_image(decode(t["png"]), info)
    r = client.post("/arithmetic", json={"model": name, "terms": terms})
    assert r.headers["x-seed"] == "1,2,3,4,5,6" and r.headers["x-label"] == "4"  # first term's label
    assert_image(decode(r.content), info)


def test_infogan_given_codes(server, client):
    info = server.find("infogan")
    k = info["codes"]["continuous"]
    cont = [0.5] * k
    body = post_json(client, "/infogan", {"model": info["name"], "seed": 3, "categorical": 1, "continuous": cont})
    (im,) = body["images"]
    assert (im["categorical"], im["continuous"], im["seed"]) == (1, cont, 3)
    assert_image(decode(im["png"]), info)


def test_infogan_without_codes_equals_generate(server, client):
    name = server.find("infogan")["name"]
    drawn = post_json(client, "/infogan", {"model": name, "seed": 12})["images"][0]
    assert drawn["png"] == single(client, name, 12)
    same = {"model": name, "seed": 12, "categorical": drawn["categorical"]}
    assert post_json(client, "/infogan", same)["images"][0]["png"] == drawn["png"]  # giving a code shifts nothing


def test_infogan_categorical_sweep(server, client):
    info = server.find("infogan")
    n_cat = info["codes"]["categorical"][0]
    values = list(range(n_cat))
    req = {"model": info["name"], "seed": 2, "sweep": {"code": "categorical", "values": values}}
    body = post_json(client, "/infogan", req)
    assert [im["categorical"] for im in body["images"]] == values
    assert len({tuple(im["continuous"]) for im in body["images"]}) == 1  # the other codes held fixed
    cols = math.ceil(math.sqrt(n_cat))
    assert_image(decode(client.post("/infogan", json=req).content), info, cols, math.ceil(n_cat / cols))


def test_infogan_continuous_sweep(server, client):
    info = server.find("infogan")
    req = {"model": info["name"], "seed": 2, "sweep": {"code": "continuous:0", "values": [-2, -1, 0, 1, 2]}}
    body = post_json(client, "/infogan", req)
    assert [im["continuous"][0] for im in body["images"]] == [-2, -1, 0, 1, 2]
    assert len({im["categorical"] for im in body["images"]}) == 1
    assert len({im["png"] for im in body["images"]}) == 5
    r = client.post("/infogan", json=req | {"columns": 5})
    assert_image(decode(r.content), info, 5, 1)
