"""Bad input gets a 4xx whose JSON `detail` names the field; nothing a client sends yields a 500."""

import asyncio
import json
import re
import socket
import time

import httpx
import pytest


def _detail_text(r: httpx.Response) -> str:
    detail = r.json()["detail"]
    if isinstance(detail, list):
        return " ".join(".".join(map(str, e["loc"])) + ": " + e["msg"] for e in detail)
    return detail


def _check(client, path, body, status, field):
    r = (
        client.post(path, json=body)
        if not isinstance(body, bytes)
        else client.post(path, content=body, headers={"content-type": "application/json"})
    )
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert field in _detail_text(r), r.text


GENERATE = [
    ({"n": 0}, "n"),
    ({"n": 257}, "n"),
    ({"n": "5"}, "n"),
    ({"n": 2.5}, "n"),
    ({"n": True}, "n"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**32}, "seed"),
    ({"seed": "abc"}, "seed"),
    ({"format": "jpeg"}, "format"),
    ({"columns": 0}, "columns"),
    ({"model": 5}, "model"),
    ({"lable": 1}, "lable"),
]


@pytest.mark.parametrize(("body", "field"), GENERATE)
def test_generate_bad_fields(client, body, field):
    _check(client, "/generate", body, 422, field)


@pytest.mark.parametrize("raw", [b"{bad json", b"[]", b"null", b"", b'"text"', b'{"n": NaN}'])
def test_malformed_bodies(client, raw):
    r = client.post("/generate", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "detail" in r.json()


@pytest.mark.parametrize("path", ["/generate", "/interpolate", "/arithmetic", "/infogan", "/translate", "/text2image"])
def test_a_deeply_nested_body_is_a_422(client, path):
    for raw in (b"[" * 60_000, b'{"seed": ' + b"[" * 60_000):
        r = client.post(path, content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body"], (path, r.text)


def test_labels_are_checked_against_the_model(server, client):
    unc, cond = server.find("unconditional")["name"], server.find("conditional")["name"]
    _check(client, "/generate", {"model": unc, "label": 1}, 422, "label")
    _check(client, "/generate", {"model": cond, "label": "no-such-class"}, 422, "label")
    _check(client, "/generate", {"model": cond, "label": 10_000}, 422, "label")
    _check(client, "/generate", {"model": cond, "label": -1}, 422, "label")
    _check(client, "/generate", {"model": cond, "label": True}, 422, "label")
    _check(client, "/interpolate", {"model": unc, "seed_a": 1, "seed_b": 2, "label_a": 0}, 422, "label_a")
    _check(client, "/interpolate", {"model": cond, "seed_a": 1, "seed_b": 2, "label_b": "zz"}, 422, "label_b")
    _check(client, "/arithmetic", {"model": unc, "terms": [{"seeds": [1], "label": 0}]}, 422, "terms.0.label")
    _check(client, "/arithmetic", {"model": unc, "terms": [{"seeds": [1]}], "label": 0}, 422, "label")


@pytest.mark.parametrize("path", ["/generate", "/interpolate", "/arithmetic", "/infogan"])
def test_unknown_model_is_404(client, path):
    body = {"model": "no-such-model", "seed_a": 1, "seed_b": 2, "terms": [{"seeds": [1]}]}
    body = {k: v for k, v in body.items() if k == "model" or path in _FIELDS.get(k, ())}
    _check(client, path, body, 404, "no-such-model")


_FIELDS = {"seed_a": ("/interpolate",), "seed_b": ("/interpolate",), "terms": ("/arithmetic",)}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"seed_a": 1}, "seed_b"),
        ({"seed_a": 1, "seed_b": 2, "steps": 1}, "steps"),
        ({"seed_a": 1, "seed_b": 2, "steps": 65}, "steps"),
        ({"seed_a": 1, "seed_b": 2, "method": "cubic"}, "method"),
        ({"seed_a": 1.5, "seed_b": 2}, "seed_a"),
    ],
)
def test_interpolate_bad_fields(client, body, field):
    _check(client, "/interpolate", body, 422, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"terms": []}, "terms"),
        ({"terms": [{"seeds": [1]}] * 9}, "terms"),
        ({"terms": [{"seeds": []}]}, "terms.0.seeds"),
        ({"terms": [{"seeds": list(range(17))}]}, "terms.0.seeds"),
        ({"terms": [{"seeds": [1], "weight": "1"}]}, "terms.0.weight"),
        ({"terms": [{"seeds": [1], "weight": 1e9}]}, "terms.0.weight"),
        ({"terms": [{"seeds": [-3]}]}, "terms.0.seeds"),
        ({}, "terms"),
    ],
)
def test_arithmetic_bad_fields(client, body, field):
    _check(client, "/arithmetic", body, 422, field)


def test_arithmetic_nan_weight(client):
    _check(client, "/arithmetic", b'{"terms": [{"seeds": [1], "weight": NaN}]}', 422, "weight")


def test_infogan_on_other_models_is_422(server, client):
    for kind in ("unconditional", "conditional"):
        _check(client, "/infogan", {"model": server.find(kind)["name"], "seed": 1}, 422, "model")


def test_infogan_bad_codes(server, client):
    info = server.find("infogan")
    name, n_cat, k = info["name"], info["codes"]["categorical"][0], info["codes"]["continuous"]
    cases = [
        ({"categorical": n_cat}, "categorical"),
        ({"categorical": -1}, "categorical"),
        ({"continuous": [0.0] * (k + 1)}, "continuous"),
        ({"continuous": [1e6] * k}, "continuous"),
        ({"sweep": {"code": f"continuous:{k}", "values": [0]}}, "sweep.code"),
        ({"sweep": {"code": "style", "values": [0]}}, "sweep.code"),
        ({"sweep": {"code": "categorical", "values": [0.5]}}, "sweep.values"),
        ({"sweep": {"code": "categorical", "values": [n_cat]}}, "sweep.values"),
        ({"sweep": {"code": "categorical", "values": []}}, "sweep.values"),
        ({"sweep": {"code": "continuous:0", "values": [500]}}, "sweep.values"),
    ]
    for extra, field in cases:
        _check(client, "/infogan", {"model": name, "seed": 1, **extra}, 422, field)


def test_body_too_large_is_413(client):
    body = json.dumps({"seed": 1, "model": "x" * 70_000}).encode()
    r = client.post("/generate", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "bytes" in r.json()["detail"]


def test_wrong_method_and_path(client):
    assert client.get("/generate").status_code == 405
    assert client.get("/nowhere").status_code == 404


def test_no_500_was_ever_served(client):
    text = client.get("/metrics").text
    assert 'status="500"' not in text


def test_overload_is_503_with_retry_after(server):
    """Past the queue bound (300 images in the test server) requests are refused at once."""
    name = server.find("unconditional")["name"]

    async def main():
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
            reqs = [c.post("/generate", json={"model": name, "seed": i, "n": 256}) for i in range(8)]
            return await asyncio.gather(*reqs)

    responses = asyncio.run(main())
    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {200, 503} and codes[0] == 200 and codes[-1] == 503, codes
    for r in responses:
        if r.status_code == 503:
            assert int(r.headers["retry-after"]) >= 1 and "queue full" in r.json()["detail"]


def test_work_of_a_client_that_left_is_dropped(server, client):
    """A client that hangs up mid-request gets its queued chunks dropped (logged as 499)."""
    name = server.find("unconditional")["name"]
    host, port = server.url.removeprefix("http://").split(":")
    body = json.dumps({"model": name, "seed": 1, "n": 256}).encode()
    head = (
        f"POST /generate HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    images_before = _images_run(client)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head.encode() + body)
        time.sleep(0.01)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if '"status": 499' in server.log.read_text():
            break
        time.sleep(0.05)
    assert '"status": 499' in server.log.read_text()
    time.sleep(0.2)
    assert _images_run(client) - images_before < 256


def _images_run(client) -> float:
    text = client.get("/metrics").text
    return sum(float(v) for v in re.findall(r"^gan_batch_size_images_sum\{[^}]*\} (\S+)$", text, re.M))
