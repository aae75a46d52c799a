"""GAN_* environment settings: parsing, bounds, caching; the app factory is cheap and repeatable."""

import asyncio
import gc
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from service.app import create_app
from service.settings import Settings, get_settings

from .launch import serving


def test_defaults():
    s = Settings(_env_file=None)
    assert s.models_dir == Path("exported_models") and (s.host, s.port) == ("0.0.0.0", 8000)
    assert s.provider == "auto" and s.default_model == "mnist-dcgan" and s.intra_op_threads() >= 1


def test_env_vars_with_prefix(monkeypatch):
    monkeypatch.setenv("GAN_PORT", "9001")
    monkeypatch.setenv("GAN_MAX_BATCH", "32")
    monkeypatch.setenv("GAN_MAX_WAIT_MS", "2.5")
    monkeypatch.setenv("GAN_PROVIDER", "cpu")
    monkeypatch.setenv("GAN_THREADS", "3")
    monkeypatch.setenv("GAN_MODELS_DIR", "/models")
    s = Settings()
    assert (s.port, s.max_batch, s.max_wait_ms, s.provider) == (9001, 32, 2.5, "cpu")
    assert s.intra_op_threads() == 3 and s.models_dir == Path("/models")


@pytest.mark.parametrize(
    ("var", "value"),
    [("GAN_PORT", "70000"), ("GAN_MAX_BATCH", "0"), ("GAN_PROVIDER", "tpu"), ("GAN_QUEUE_IMAGES", "x")],
)
def test_bad_values_fail_naming_the_field(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError) as err:
        Settings()
    assert var.removeprefix("GAN_").lower() in str(err.value)


def test_keepalive_can_outlast_the_proxies_operations_names(monkeypatch):
    """docs/OPERATIONS.md: raise GAN_KEEPALIVE_S above Envoy's 1 h idle timeout (3900 s its example); a day at most."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md").read_text()
    assert "Envoy's `idle_timeout` (1 h" in text and "for example to 3900" in text and "1 to 86,400 s" in text
    for value in ("3900", "86400"):
        monkeypatch.setenv("GAN_KEEPALIVE_S", value)
        assert Settings(_env_file=None).keepalive_s == int(value)
    monkeypatch.setenv("GAN_KEEPALIVE_S", "86401")
    with pytest.raises(ValidationError, match="keepalive_s"):
        Settings(_env_file=None)


def test_get_settings_is_cached():
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()


def test_apps_are_independent_and_load_nothing_until_started(tmp_path):
    a = create_app(Settings(models_dir=tmp_path))
    b = create_app(Settings(models_dir=tmp_path))  # per-app metrics registries: no duplicate timeseries
    assert a.state.service is not b.state.service
    assert a.state.service.loading and not a.state.service.registry.models


def test_what_loading_made_is_frozen_out_of_the_collector(tiny_models_dir: Path):
    async def load() -> int:
        app = create_app(Settings(models_dir=tiny_models_dir, threads=1))
        async with app.router.lifespan_context(app):
            while app.state.service.loading:
                await asyncio.sleep(0.01)
            return gc.get_freeze_count()

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    assert asyncio.run(load()) > 10_000  # the models, FastAPI's and every module's objects: full collections skip them


def test_fastapi_opentelemetry_only_when_asked(tmp_path):
    assert not create_app(Settings(models_dir=tmp_path))._native_telemetry.config["tracing"]
    assert create_app(Settings(models_dir=tmp_path, otel=True))._native_telemetry.config["tracing"]
    assert Settings(_env_file=None).access_log == "errors" and not Settings(_env_file=None).otel


def test_the_service_never_imports_torch():
    code = "import sys, service.app, service.__main__; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_a_server_bug_is_a_logged_json_500(tmp_path, caplog):
    app = create_app(Settings(models_dir=tmp_path))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    async def main():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.get("/boom")

    r = asyncio.run(main())
    assert r.status_code == 500 and r.json() == {"detail": "internal server error"}
    assert any("unhandled error" in rec.getMessage() for rec in caplog.records)


def test_gan_default_model_names_the_model_of_requests_that_name_none(tiny_models_dir, tmp_path):
    with serving(tiny_models_dir, tmp_path / "set.log", default_model="tiny-infogan") as server, server.client() as c:
        assert c.get("/models").json()["default"] == "tiny-infogan"
        assert c.post("/generate", json={"seed": 1}).headers["x-model"] == "tiny-infogan"


def test_an_unserved_default_model_falls_back_to_the_first_generator_with_a_warning(tiny_models_dir, tmp_path):
    with serving(tiny_models_dir, tmp_path / "server.log") as server, server.client() as c:  # no mnist-dcgan here
        assert c.get("/models").json()["default"] == "tiny-cgan"
        r = c.post("/generate", json={"seed": 1})
        assert r.status_code == 200 and r.headers["x-model"] == "tiny-cgan"
    assert "GAN_DEFAULT_MODEL 'mnist-dcgan' is not served; using 'tiny-cgan'" in server.text()
