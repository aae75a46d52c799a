"""Access control of a real server started with API keys (from the environment and a secret file), an
admin key and a CORS allow-list: every route but the probes needs a key, admin routes an admin key,
and browsers from listed origins only."""

from __future__ import annotations

import hmac
from pathlib import Path

import httpx
import pytest

from service.auth import KeyRing
from service.settings import Settings

from .conftest import TINY_KINDS, write_tiny_model
from .launch import Launched, serving, start

ENV_KEYS = ["env-key-one-0123456789", "env-key-two-0123456789"]
FILE_KEY = "file-key-0123456789abcdef"
ADMIN_KEY = "admin-key-0123456789abcdef"
ORIGIN = "http://allowed.example"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("auth")
    for name in ("tiny-dcgan", "tiny-infogan"):
        write_tiny_model(root / "models", name, **TINY_KINDS[name])
    write_tiny_model(root / "models", "tiny-corrupt", corrupt=True)  # refused: /readyz has a reason to hide
    key_file = root / "api_keys"
    key_file.write_text(f"# mounted secret\n\n  {FILE_KEY}  \n")
    settings = {
        "api_keys": ",".join(ENV_KEYS),
        "api_keys_file": key_file,
        "admin_keys": ADMIN_KEY,
        "cors_origins": ORIGIN,
    }
    with serving(root / "models", root / "server.log", **settings) as server:
        yield server


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def every_route(server: Launched) -> list[tuple[str, str]]:
    """(method, concrete path) of every operation in the OpenAPI document, plus the undocumented ones."""
    spec = httpx.get(f"{server.url}/openapi.json", headers=bearer(ENV_KEYS[0])).json()
    routes = [
        (method.upper(), path.replace("{name}", "tiny-dcgan").replace("{file}", "app.js"))
        for path, item in spec["paths"].items()
        for method in item
    ]
    return [*routes, ("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/no-such-path"), ("GET", "/")]


def test_probes_need_no_key(guarded: Launched):
    assert httpx.get(f"{guarded.url}/healthz").status_code == 200
    assert httpx.get(f"{guarded.url}/readyz").status_code == 200


def test_readyz_shows_details_only_with_a_valid_key(guarded: Launched):
    for headers in ({}, bearer("not-a-key-0123456789")):
        r = httpx.get(f"{guarded.url}/readyz", headers=headers)
        assert r.status_code == 200 and r.json() == {"status": "ready", "models": ["tiny-dcgan", "tiny-infogan"]}
    for key in (ENV_KEYS[0], ADMIN_KEY):
        detailed = httpx.get(f"{guarded.url}/readyz", headers={"X-API-Key": key}).json()
        assert detailed["models"] == ["tiny-dcgan", "tiny-infogan"] and detailed["down"] == {}
        assert "sha256" in detailed["failed"]["tiny-corrupt"]


def test_every_other_route_is_401_without_a_valid_key(guarded: Launched):
    routes = every_route(guarded)
    assert len(routes) >= 15
    with guarded.client() as c:
        for method, path in routes:
            if path in ("/healthz", "/readyz"):
                continue
            missing = c.request(method, path, json={} if method == "POST" else None)
            assert missing.status_code == 401, (method, path, missing.text)
            assert missing.headers["www-authenticate"].startswith("Bearer realm=")
            assert "API key is required" in missing.json()["detail"]
            wrong = c.request(method, path, headers=bearer("not-a-key-0123456789"))
            assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["www-authenticate"]


@pytest.mark.parametrize("key", [*ENV_KEYS, FILE_KEY, ADMIN_KEY])
def test_each_configured_key_works_as_bearer_or_x_api_key(guarded: Launched, key: str):
    with guarded.client() as c:
        assert c.get("/models", headers=bearer(key)).status_code == 200
        assert c.get("/models", headers={"authorization": f"bearer {key}"}).status_code == 200
        assert c.post("/generate", json={"seed": 1}, headers={"X-API-Key": key}).status_code == 200
        assert c.get("/models", headers={"Authorization": f"Basic {key}"}).status_code == 401


def test_admin_routes_need_an_admin_key(guarded: Launched):
    with guarded.client() as c:
        assert c.post("/admin/reload").status_code == 401
        forbidden = c.post("/admin/reload", headers=bearer(ENV_KEYS[0]))
        assert forbidden.status_code == 403 and "admin key" in forbidden.json()["detail"]
        ok = c.post("/admin/reload", headers=bearer(ADMIN_KEY))
        assert ok.status_code == 200 and ok.json()["unchanged"] == ["tiny-dcgan", "tiny-infogan"]


def test_cors_allows_the_listed_origin_only(guarded: Launched):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,x-deadline-ms",
    }
    with guarded.client() as c:
        allowed = c.options("/generate", headers={"Origin": ORIGIN, **preflight})
        assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ORIGIN
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        denied = c.options("/generate", headers={"Origin": "http://evil.example", **preflight})
        assert denied.status_code == 400 and "access-control-allow-origin" not in denied.headers
        r = c.post("/generate", json={"seed": 3}, headers={"Origin": ORIGIN, **bearer(ENV_KEYS[0])})
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert "x-seed" in r.headers["access-control-expose-headers"].lower()
        unauthorized = c.get("/models", headers={"Origin": ORIGIN})  # a browser can read why it failed
        assert unauthorized.status_code == 401 and unauthorized.headers["access-control-allow-origin"] == ORIGIN
        other = c.get("/models", headers={"Origin": "http://evil.example", **bearer(ENV_KEYS[0])})
        assert "access-control-allow-origin" not in other.headers


def test_openapi_declares_the_keys(guarded: Launched):
    spec = httpx.get(f"{guarded.url}/openapi.json", headers=bearer(ENV_KEYS[0])).json()
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert spec["paths"]["/healthz"]["get"]["security"] == []
    assert spec["paths"]["/generate"]["post"]["security"] and "401" in spec["paths"]["/generate"]["post"]["responses"]
    assert "403" in spec["paths"]["/admin/reload"]["post"]["responses"]


def test_keys_are_compared_in_constant_time_against_every_key(monkeypatch: pytest.MonkeyPatch):
    keys = KeyRing.from_settings(Settings(_env_file=None, api_keys=",".join(ENV_KEYS), admin_keys=ADMIN_KEY))
    calls = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    assert keys.matches(ENV_KEYS[0].encode(), keys.api) and not keys.matches(b"x", keys.api)
    assert len(calls) == 2 * len(keys.api) == 6  # every key, whether or not an earlier one matched
    assert set(calls) == {(32, 32)}  # digests: the length of a guess is not compared


def test_an_open_server_still_guards_its_admin_routes(client: httpx.Client):
    assert client.get("/models").status_code == 200
    r = client.post("/admin/reload")
    assert r.status_code == 403 and "GAN_ADMIN_KEYS" in r.json()["detail"]


def test_an_unreadable_key_file_stops_start_up_with_one_line(tmp_path: Path):
    server = start(tmp_path, tmp_path / "server.log", api_keys_file=tmp_path / "missing")
    code = server.proc.wait(timeout=60)
    lines = server.text().strip().splitlines()
    assert code != 0 and len(lines) == 1 and "api_keys_file: cannot read" in lines[0], lines
