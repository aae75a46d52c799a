"""Hot reload of a real server under concurrent load: POST /admin/reload swaps new and changed models in
with zero failed requests, removed models answer 404 afterwards, and a changed model that fails its
integrity check keeps serving its previous version."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from service.manifest import Manifest
from service.reload import plan

from .conftest import EXPORTED, tiny_generator, tiny_manifest
from .launch import Launched, serving

ADMIN_KEY = "admin-key-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
CYCLES = 4
WORKERS = 8


def write_version(root: Path, name: str, version: int) -> None:
    """Model `name` with weights that depend on `version`, so each version draws different images."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    tiny_generator(folder / "model.onnx", seed=100 + version)
    (folder / "manifest.json").write_text(json.dumps(tiny_manifest(name, folder / "model.onnx")))


@pytest.fixture
def reloadable(tmp_path: Path):
    models = tmp_path / "models"
    write_version(models, "tiny-a", 1)
    write_version(models, "tiny-b", 1)
    real = sorted(EXPORTED.glob("*/manifest.json"))
    if real:  # a real model that stays as it is throughout
        shutil.copytree(real[0].parent, models / real[0].parent.name)
    with serving(models, tmp_path / "server.log", admin_keys=ADMIN_KEY, max_batch=16) as server:
        yield server, models


def reload(server: Launched) -> dict:
    r = httpx.post(f"{server.url}/admin/reload", headers=ADMIN, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_reload_under_load_fails_no_request(reloadable):
    server, models = reloadable
    served = httpx.get(f"{server.url}/models").json()["models"]
    kept = [m["name"] for m in served if not m["name"].startswith("tiny") and m["kind"] == "generator"]
    steady = ["tiny-a", *kept]  # served before, during and after every reload
    answers: dict[str, list[int]] = defaultdict(list)
    a_images: set[bytes] = set()
    reports = []
    inference: list[tuple[list[str], list[str]]] = []  # (threads, one per served model) after each reload

    async def main() -> None:
        stop = asyncio.Event()
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:

            async def worker(k: int) -> None:
                while not stop.is_set():
                    name = steady[k % len(steady)]
                    r = await c.post("/generate", json={"model": name, "seed": 7, "n": 1 + k % 3})
                    answers[name].append(r.status_code)
                    if name == "tiny-a" and r.status_code == 200 and k % 3 == 0:
                        a_images.add(r.content)

            workers = [asyncio.create_task(worker(k)) for k in range(WORKERS)]
            await asyncio.sleep(0.3)
            for cycle in range(1, CYCLES + 1):
                odd = cycle % 2 == 1
                write_version(models, "tiny-a", 2 if odd else 1)
                if odd:
                    shutil.rmtree(models / "tiny-b")
                    write_version(models, "tiny-c", 1)
                else:
                    shutil.rmtree(models / "tiny-c")
                    write_version(models, "tiny-b", 1)
                reports.append(await asyncio.to_thread(reload, server))
                inference.append(await asyncio.to_thread(_inference_threads, server))
                gone, back = ("tiny-b", "tiny-c") if odd else ("tiny-c", "tiny-b")
                assert (await c.post("/generate", json={"model": gone})).status_code == 404
                assert (await c.post("/generate", json={"model": back})).status_code == 200
                await asyncio.sleep(0.2)
            stop.set()
            await asyncio.gather(*workers)

    asyncio.run(main())
    for name in steady:
        assert answers[name] and set(answers[name]) == {200}, (name, sorted(set(answers[name])))
    assert sum(len(v) for v in answers.values()) > 50
    assert len(a_images) == 2  # both versions of tiny-a were served, and nothing else
    first, second = reports[0], reports[1]
    assert first["updated"] == ["tiny-a"] and first["added"] == ["tiny-c"] and first["removed"] == ["tiny-b"]
    assert second["updated"] == ["tiny-a"] and second["added"] == ["tiny-b"] and second["removed"] == ["tiny-c"]
    assert sorted(first["unchanged"]) == sorted(kept) and not first["failed"]
    names = [m["name"] for m in httpx.get(f"{server.url}/models").json()["models"]]
    assert names == sorted(["tiny-a", "tiny-b", *kept])
    for threads, wanted in inference:  # one inference thread per served model: replaced versions' are gone
        assert threads == wanted


def _inference_threads(server: Launched, wait_s: float = 5.0) -> tuple[list[str], list[str]]:
    """The server's inference threads by their kernel names (batcher.name_os_thread), and the names one thread per
    served model would have. A replaced version's thread ends once its last batch is done, so this waits up to
    `wait_s` for the two to agree."""
    deadline = time.monotonic() + wait_s
    while True:
        names = []
        for task in Path(f"/proc/{server.proc.pid}/task").iterdir():
            with contextlib.suppress(OSError):  # a thread that ended while we looked
                names.append((task / "comm").read_text().strip())
        threads = sorted(n for n in names if n.startswith("infer-"))
        served = httpx.get(f"{server.url}/models").json()["models"]
        wanted = sorted(f"infer-{m['name']}"[:15] for m in served)
        if threads == wanted or time.monotonic() > deadline:
            return threads, wanted
        time.sleep(0.05)


def test_a_changed_model_that_fails_its_checks_keeps_its_previous_version(reloadable):
    server, models = reloadable
    before = httpx.post(f"{server.url}/generate", json={"model": "tiny-a", "seed": 3})
    tiny_generator(models / "tiny-a" / "model.onnx", seed=999)  # new weights, manifest not updated
    report = reload(server)
    assert "sha256" in report["failed"]["tiny-a"] and "still serving the previous version" in report["failed"]["tiny-a"]
    assert "tiny-a" in report["models"] and "tiny-a" not in report["updated"]
    after = httpx.post(f"{server.url}/generate", json={"model": "tiny-a", "seed": 3})
    assert after.status_code == 200 and after.content == before.content
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 200 and "tiny-a" in ready.json()["failed"]


def test_a_served_model_whose_new_manifest_is_broken_keeps_serving_until_its_folder_goes(reloadable):
    server, models = reloadable
    before = httpx.post(f"{server.url}/generate", json={"model": "tiny-a", "seed": 3})
    (models / "tiny-a" / "manifest.json").write_text("{")
    report = reload(server)
    reason = report["failed"]["tiny-a"]
    assert "invalid manifest.json" in reason and "still serving the previous version" in reason
    assert "tiny-a" in report["models"] and "tiny-a" not in report["removed"]
    after = httpx.post(f"{server.url}/generate", json={"model": "tiny-a", "seed": 3})
    assert after.status_code == 200 and after.content == before.content
    assert httpx.get(f"{server.url}/readyz").json()["failed"]["tiny-a"] == reason
    shutil.rmtree(models / "tiny-a")
    report = reload(server)
    assert report["removed"] == ["tiny-a"] and "tiny-a" not in report["failed"]
    assert httpx.post(f"{server.url}/generate", json={"model": "tiny-a"}).status_code == 404


def test_a_new_model_with_a_bad_manifest_is_reported_not_served(reloadable):
    server, models = reloadable
    (models / "tiny-d").mkdir()
    (models / "tiny-d" / "manifest.json").write_text("{")
    report = reload(server)
    assert "invalid manifest.json" in report["failed"]["tiny-d"] and "tiny-d" not in report["models"]
    assert httpx.post(f"{server.url}/generate", json={"model": "tiny-d"}).status_code == 404


def test_plan_loads_new_and_changed_models_and_removes_missing_ones(tmp_path: Path):
    def manifest(name: str, version: int) -> Manifest:
        write_version(tmp_path, name, version)
        return Manifest.model_validate_json((tmp_path / name / "manifest.json").read_text())

    a1, a2, b, c = manifest("a", 1), manifest("a", 2), manifest("b", 1), manifest("c", 1)
    served = {"a": a1, "b": b, "gone": c}
    found = [(tmp_path / "a", a2, a2.sha256), (tmp_path / "b", b, b.sha256), (tmp_path / "c", c, "0" * 64)]
    todo = plan(served, found)
    assert [m.name for _, m in todo.load] == ["a", "c"] and todo.keep == ["b"] and todo.remove == ["gone"]
    swapped_file = plan({"b": b}, [(tmp_path / "b", b, "f" * 64)])  # same manifest, different bytes on disk
    assert [m.name for _, m in swapped_file.load] == ["b"] and not swapped_file.keep


def test_translators_and_text_models_reload_like_generators(tmp_path: Path):
    """A translator and a text-to-image model are added, kept, refused when a file changes (the previous
    version keeps serving), and removed (404 afterwards) by /admin/reload."""
    pipelines = ["mnist-cyclegan", "mnist-stackgan"]
    if not all((EXPORTED / name / "manifest.json").is_file() for name in pipelines):
        pytest.skip("the translator and the text-to-image model are not committed")
    models = tmp_path / "models"
    write_version(models, "tiny-a", 1)
    with serving(models, tmp_path / "server.log", admin_keys=ADMIN_KEY) as server:
        for name in pipelines:
            shutil.copytree(EXPORTED / name, models / name)
        report = reload(server)
        assert sorted(report["added"]) == sorted(pipelines) and not report["failed"]
        body = {"model": "mnist-cyclegan", "seed": 3}
        before = httpx.post(f"{server.url}/translate", json=body)
        assert before.status_code == 200
        assert reload(server)["unchanged"] == ["tiny-a", *sorted(pipelines)]
        bank = models / "mnist-cyclegan" / "bank_a.npy"
        bank.write_bytes(bank.read_bytes()[:-1] + b"\x01")  # one pixel changed, manifest not updated
        report = reload(server)
        assert (
            "bank_sha256" in report["failed"]["mnist-cyclegan"]
            and "previous version" in report["failed"]["mnist-cyclegan"]
        )
        assert httpx.post(f"{server.url}/translate", json=body).content == before.content
        text_body = {"model": "mnist-stackgan", "text": "a one", "seed": 1}
        text_before = httpx.post(f"{server.url}/text2image", json=text_body).content
        (models / "mnist-stackgan" / "manifest.json").write_text('{"name": "mnist-stackgan"}')
        report = reload(server)
        assert "previous version" in report["failed"]["mnist-stackgan"] and "mnist-stackgan" in report["models"]
        assert httpx.post(f"{server.url}/text2image", json=text_body).content == text_before
        shutil.rmtree(models / "mnist-cyclegan")
        shutil.rmtree(models / "mnist-stackgan")
        report = reload(server)
        assert sorted(report["removed"]) == sorted(pipelines)
        assert httpx.post(f"{server.url}/translate", json=body).status_code == 404
        assert (
            httpx.post(f"{server.url}/text2image", json={"model": "mnist-stackgan", "text": "a one"}).status_code == 404
        )
        assert httpx.get(f"{server.url}/models").json()["models"][0]["name"] == "tiny-a"
