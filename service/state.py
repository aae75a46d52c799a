"""What one app instance owns: settings, metrics, the model registry and a batcher per model.

`load()` runs as a background task started by the lifespan; until it finishes, `/readyz`
answers 503 and requests for models that are not loaded yet get 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import numpy as np
from starlette.types import Receive

from service.batcher import Batcher, BatcherStopped, Inputs, QueueFull
from service.errors import ClientGone, Unavailable
from service.metrics import Metrics
from service.registry import LoadedModel, ModelLoadError, ModelRegistry, discover, load_model
from service.settings import Settings

log = logging.getLogger(__name__)


async def _until_disconnected(receive: Receive) -> None:
    """Return when the server reports the client gone (the body was read already)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


@dataclass
class ServiceState:
    """Everything one app owns; attached to `app.state.service` by `create_app`."""

    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    registry: ModelRegistry = field(default_factory=ModelRegistry)
    batchers: dict[str, Batcher] = field(default_factory=dict)
    loading: bool = True
    default_model: str | None = None

    @property
    def ready(self) -> bool:
        return not self.loading and bool(self.registry.models)

    async def load(self) -> None:
        """Verify, open, warm up and start every model; one bad model never stops the others."""
        s = self.settings
        try:
            if s.warmup_delay_s:
                await asyncio.sleep(s.warmup_delay_s)
            found, failed = await asyncio.to_thread(discover, s.models_dir)
            self.registry.failed.update(failed)
            self.default_model = s.default_model
            for folder, manifest in found:
                try:
                    model = await asyncio.to_thread(load_model, folder, manifest, s)
                except Exception as exc:  # one bad model (or a bug it triggers) must not stop the rest
                    if not isinstance(exc, ModelLoadError):
                        log.exception("loading %s failed unexpectedly", manifest.name)
                    log.error("not serving model=%s: %s", manifest.name, exc)
                    self.registry.failed[manifest.name] = str(exc)
                    continue
                await self._serve(model)
                self.default_model = self.default_model or model.name  # first served, by name
            for name, reason in failed.items():
                log.error("not serving folder=%s: %s", name, reason)
        except Exception:
            log.exception("model loading failed")
        finally:
            self.loading = False
        if self.default_model and self.default_model not in self.registry.models:
            log.warning("default model %r is not served", self.default_model)
        log.info("ready=%s models=%s failed=%s", self.ready, self.registry.names(), sorted(self.registry.failed))

    async def _serve(self, model: LoadedModel) -> None:
        s = self.settings
        batcher = Batcher(
            run=model.run,
            max_batch=s.max_batch,
            max_wait_s=s.max_wait_ms / 1000.0,
            max_queue=s.queue_images,
            buckets=model.buckets,
            hooks=self.metrics.hooks(model.name),
            name=model.name,
        )
        await batcher.start()
        self.batchers[model.name] = batcher
        self.registry.add(model)
        self.metrics.models_loaded.set(len(self.registry.models))

    async def close(self) -> None:
        for batcher in self.batchers.values():
            await batcher.stop()

    def model(self, name: str | None) -> LoadedModel:
        """The model a request names (or the default); 503 while it may still be loading."""
        name = name or self.default_model
        if name is not None and name in self.registry.models:
            return self.registry.models[name]
        if self.loading:
            raise Unavailable("models are still loading", retry_after_s=2.0)
        if name is None:
            raise Unavailable("no model is being served", retry_after_s=30.0)
        return self.registry.get(name)  # raises ModelNotFound

    async def sample(self, receive: Receive, model: LoadedModel, inputs: Inputs) -> np.ndarray:
        """Queue inputs on the model's batcher; give up (and drop the work) if the client leaves."""
        work = asyncio.ensure_future(self.batchers[model.name].submit(inputs))
        watch = asyncio.ensure_future(_until_disconnected(receive))
        try:
            done, _ = await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
            if not work.done():
                work.cancel()  # cancels the batcher futures, so take_batch drops them
        if work not in done:
            raise ClientGone()
        try:
            return work.result()
        except QueueFull as exc:
            raise Unavailable(f"{model.name}: {exc}", exc.retry_after_s) from None
        except BatcherStopped as exc:
            raise Unavailable(str(exc), retry_after_s=5.0) from None
