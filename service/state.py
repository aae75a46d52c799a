"""What one app instance owns: settings, metrics, the model registry and a batcher per model.

`load()` runs as a background task started by the lifespan; until it finishes, `/readyz`
answers 503 and requests for models that are not loaded yet get 503 with Retry-After. When it
finds nothing servable it sets `fatal`, and `python -m service` exits with that message.

`reload()` (POST /admin/reload) brings the served set in line with the models directory while
requests keep flowing: a new version loads beside the old one, the swap is one assignment on the
event loop, and the old version's batcher stops only once no request holds it any more. A model
whose new version cannot be served, its manifest included, keeps its previous version; only a
folder that is gone stops a model.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from starlette.requests import Request

from service.auth import KeyRing
from service.batcher import Inputs
from service.errors import InputError, ModelNotFound, Unavailable
from service.lanes import Lanes
from service.manifest import Manifest, TextToImageManifest, TranslatorManifest, file_sha256
from service.metrics import Metrics
from service.pipelines import LoadedTextToImage, LoadedTranslator, Pipeline, Runner, load_pipeline
from service.registry import LoadedModel, ModelRegistry, discover_all, load_model
from service.reload import plan, scan
from service.schemas.admin import ReloadResponse
from service.sessions import ModelLoadError
from service.settings import Settings
from service.shutdown import Drain

log = logging.getLogger(__name__)
PipelineT = TypeVar("PipelineT", LoadedTranslator, LoadedTextToImage)


KIND_ROUTES = {"generator": "/generate", "translator": "/translate", "text2image": "/text2image"}


def _files_unchanged(folder: Path, manifest: TranslatorManifest | TextToImageManifest) -> bool:
    """Whether every file the manifest names still has its recorded digest (blocking I/O)."""
    try:
        return all(file_sha256(folder / name) == digest for name, digest in manifest.files())
    except OSError:
        return False


@dataclass
class ServiceState:
    """Everything one app owns; attached to `app.state.service` by `create_app`."""

    settings: Settings
    keys: KeyRing  # who may see /readyz's details
    metrics: Metrics = field(default_factory=Metrics)
    registry: ModelRegistry = field(default_factory=ModelRegistry)
    pipelines: dict[str, Pipeline] = field(default_factory=dict)  # translators and text-to-image models
    folders: dict[str, Path] = field(default_factory=dict)  # the folder each served model was loaded from
    lanes: Lanes = field(init=False)  # a batcher per served graph
    drain: Drain = field(default_factory=Drain)
    loading: bool = True
    default_model: str | None = None
    fatal: str | None = None  # why start-up found nothing to serve
    _reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _load_slots: asyncio.Semaphore = field(default_factory=asyncio.Semaphore)  # graphs loading at once (reload)

    def __post_init__(self) -> None:
        self.lanes = Lanes(self.settings, self.metrics)

    @property
    def ready(self) -> bool:
        return not self.loading and bool(self.served_names()) and not self.drain.draining

    def served_names(self) -> list[str]:
        """Every served model of every kind."""
        return sorted([*self.registry.models, *self.pipelines])

    async def load(self) -> None:
        """Verify, open, warm up and start every model; one bad model never stops the others."""
        s = self.settings
        try:
            if s.warmup_delay_s:
                await asyncio.sleep(s.warmup_delay_s)
            await self.reload()
        except Exception:
            log.exception("model loading failed")
        finally:
            self.loading = False
            self._pick_default()
        if not self.served_names():
            reasons = "; ".join(f"{name}: {why}" for name, why in sorted(self.registry.failed.items()))
            fatal = f"no valid model to serve in {s.models_dir} ({reasons or 'no model folders'})"
            self.fatal = " ".join(fatal.split())  # one line
            log.error(self.fatal)
        elif self.default_model != s.default_model:
            log.warning("GAN_DEFAULT_MODEL %r is not served; using %r", s.default_model, self.default_model)
        log.info("ready=%s models=%s failed=%s", self.ready, self.served_names(), sorted(self.registry.failed))
        # What is loaded now lives as long as the process: frozen out of the collector's sight, a full collection
        # scans only what requests allocate (about 79,000 objects fewer; docs/bench). Garbage is collected first,
        # or it would be frozen with them.
        gc.collect()
        gc.freeze()

    async def reload(self) -> ReloadResponse:
        """Serve what the models directory holds now: load new and changed models, drop removed ones.

        A changed model whose new version cannot be loaded, or whose new manifest does not validate, keeps
        serving its previous version; only a model whose folder is gone is dropped.
        """
        async with self._reload_lock:
            s = self.settings
            found, failed = await asyncio.to_thread(scan, s.models_dir)
            broken = self._keep_broken(failed)
            served = {name: m.manifest for name, m in self.registry.models.items() if name not in broken}
            todo = plan(served, found)
            added: list[str] = []
            updated: list[str] = []
            # Loaded side by side, GAN_LOAD_PARALLEL at once (the CPUs by default: the proof's single-image runs
            # leave ORT's threads mostly idle, so one graph's proof overlaps another's), each served as soon as it
            # is proven. Translators and text-to-image models load meanwhile, from the same slots.
            self._load_slots = asyncio.Semaphore(s.load_parallel or s.cpus())

            async def load_one(folder: Path, manifest: Manifest) -> tuple[Path, Manifest, LoadedModel | Exception]:
                async with self._load_slots:
                    try:
                        return folder, manifest, await asyncio.to_thread(load_model, folder, manifest, s)
                    except Exception as exc:
                        return folder, manifest, exc

            gone = list(todo.remove)  # generators only: _reload_pipelines adds the pipelines it drops
            loads = [asyncio.ensure_future(load_one(f, m)) for f, m in todo.load]  # take slots in folder order
            pipelines = asyncio.ensure_future(
                self._reload_pipelines(added, updated, todo.remove, todo.keep, failed, broken)
            )
            for done in asyncio.as_completed(loads):
                folder, manifest, model = await done
                if isinstance(model, Exception):  # one bad model (or a bug it triggers) must not stop the rest
                    if not isinstance(model, ModelLoadError):
                        log.error("loading %s failed unexpectedly", manifest.name, exc_info=model)
                    reason = " ".join(str(model).split())
                    if manifest.name in self.registry.models:
                        reason += "; still serving the previous version"
                    failed[manifest.name] = reason
                    continue
                (updated if model.name in self.registry.models else added).append(model.name)
                await self._serve(model)
                self.folders[model.name] = folder
            for name in gone:
                self.registry.remove(name)
                self.folders.pop(name, None)
                self.lanes.stop(name)
            await pipelines
            added.sort()  # in the order they were proven until here
            updated.sort()
            self.registry.failed = failed
            for name, reason in failed.items():
                log.error("not serving %s: %s", name, reason)
            self._pick_default()
            self.metrics.models_loaded.set(len(self.served_names()))
            return ReloadResponse(
                added=added,
                updated=updated,
                removed=todo.remove,
                unchanged=todo.keep,
                failed=failed,
                models=self.served_names(),
                default=self.default_model,
            )

    def _keep_broken(self, failed: dict[str, str]) -> set[str]:
        """Served models whose folder now holds a manifest that does not validate: they keep serving their
        previous version, and `failed` names them (instead of the folder) with the reason."""
        broken = set()
        for name, folder in self.folders.items():
            if folder.name in failed and folder.is_dir():
                failed[name] = failed.pop(folder.name) + "; still serving the previous version"
                broken.add(name)
        return broken

    async def _reload_pipelines(
        self,
        added: list[str],
        updated: list[str],
        removed: list[str],
        kept: list[str],
        failed: dict[str, str],
        broken: set[str],
    ) -> None:
        """Translators and text-to-image models follow the directory as generators do (`reload` holds the lock).

        `failed` already names their invalid folders: `scan` reads every manifest, whatever its kind; `broken`
        are the served models among them, which keep serving.
        """
        found, _ = await asyncio.to_thread(discover_all, self.settings.models_dir)
        on_disk = {m.name for _, m in found}
        for folder, manifest in found:
            if not isinstance(manifest, TranslatorManifest | TextToImageManifest):
                continue
            current = self.pipelines.get(manifest.name)
            unchanged = current is not None and current.manifest == manifest
            if unchanged and await asyncio.to_thread(_files_unchanged, folder, manifest):
                kept.append(manifest.name)
                continue
            try:
                async with self._load_slots:
                    pipeline = await asyncio.to_thread(load_pipeline, folder, manifest, self.settings)
            except Exception as exc:  # as for generators: one bad model never stops the rest
                if not isinstance(exc, ModelLoadError):
                    log.exception("loading %s failed unexpectedly", manifest.name)
                failed[manifest.name] = " ".join(str(exc).split()) + (
                    "; still serving the previous version" if current is not None else ""
                )
                continue
            (updated if current is not None else added).append(manifest.name)
            for runner in pipeline.runners():
                await self.lanes.start(runner)
            self.pipelines[manifest.name] = pipeline
            self.folders[manifest.name] = folder
            if current is not None:  # a direction the new version lacks stops too
                for runner in current.runners():
                    if runner.name not in {r.name for r in pipeline.runners()}:
                        self.lanes.stop(runner.name)
        for name in sorted(set(self.pipelines) - on_disk - broken):
            self.folders.pop(name, None)
            for runner in self.pipelines.pop(name).runners():
                self.lanes.stop(runner.name)
            removed.append(name)

    def _pick_default(self) -> None:
        """GAN_DEFAULT_MODEL; once loading is over and it is not served, the first served generator by name (while
        loading, a request that names no model waits for the configured one: 503, not another model's images)."""
        names = self.registry.names()
        wanted = self.settings.default_model
        if self.loading or wanted in names:
            self.default_model = wanted
        else:
            self.default_model = names[0] if names else None

    async def _serve(self, model: LoadedModel) -> None:
        await self.lanes.start(model)
        self.registry.add(model)
        self._pick_default()
        self.metrics.models_loaded.set(len(self.served_names()))

    def model(self, name: str | None) -> LoadedModel:
        """The generator a request names (or the default); 503 while it may still be loading, 422 for a
        model of another kind."""
        name = name or self.default_model
        if name is not None and name in self.registry.models:
            return self.registry.models[name]
        if name in self.pipelines:
            raise self._wrong_kind(name, "generator")
        if self.loading:
            raise Unavailable("models are still loading", retry_after_s=2.0)
        if name is None:
            raise Unavailable("no model is being served", retry_after_s=30.0)
        return self.registry.get(name)  # raises ModelNotFound

    def _wrong_kind(self, name: str, wanted: str) -> InputError:
        kind = self.pipelines[name].manifest.kind if name in self.pipelines else "generator"
        return InputError("model", f"{name!r} is a {kind} model, not a {wanted}; use POST {KIND_ROUTES[kind]}")

    def pipeline(self, name: str | None, kind: type[PipelineT]) -> PipelineT:
        """The translator or text-to-image model a request names (absent: the first of that kind); 422 for
        a model of another kind, 404 for none, 503 while loading."""
        wanted = "translator" if kind is LoadedTranslator else "text2image"
        of_kind = sorted(n for n, p in self.pipelines.items() if isinstance(p, kind))
        name = name or (of_kind[0] if of_kind else None)
        found = self.pipelines.get(name) if name is not None else None
        if isinstance(found, kind):
            return found
        if name is not None and (name in self.pipelines or name in self.registry.models):
            raise self._wrong_kind(name, wanted)
        if self.loading:
            raise Unavailable("models are still loading", retry_after_s=2.0)
        if name is None:
            raise InputError("model", f"no {wanted} model is served")
        raise ModelNotFound(name, self.served_names())

    def served(self, name: str) -> LoadedModel | Pipeline:
        """A served model of any kind by name (for /models and the sample grids)."""
        if name in self.pipelines:
            return self.pipelines[name]
        if name not in self.registry.models and not self.loading:
            raise ModelNotFound(name, self.served_names())
        return self.model(name)

    async def sample(self, request: Request, model: LoadedModel | Runner, inputs: Inputs) -> np.ndarray:
        """Images of `inputs` from the model's lane (`Lanes.sample`: deadline, client gone, queue full)."""
        return await self.lanes.sample(request, model, inputs)

    async def close(self) -> None:
        await self.lanes.close()
