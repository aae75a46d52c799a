"""Lanes: one batcher per served graph version, and the requests that use it.

A reload swaps a new version's lane in with one assignment; the replaced lane keeps serving the requests that
hold it and stops its batcher once they are done. `Lanes.sample` is each request's way in: it gives up, dropping
the work, when the client leaves or the request's deadline passes first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np
from starlette.requests import Request

from service import deadline
from service.batcher import Batcher, BatcherStopped, Inputs, QueueFull
from service.errors import ClientGone, Unavailable
from service.metrics import Metrics
from service.pipelines import Runner
from service.protocol import DISCONNECT
from service.registry import LoadedModel
from service.settings import Settings


@dataclass(eq=False)
class Lane:
    """One served model version (a generator, or one graph of another kind) and its batcher, with the
    number of requests using them."""

    model: LoadedModel | Runner
    batcher: Batcher
    users: int = 0
    closing: bool = False
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.idle.set()

    def enter(self) -> None:
        self.users += 1
        self.idle.clear()

    def leave(self) -> None:
        self.users -= 1
        if not self.users:
            self.idle.set()


@dataclass
class Lanes:
    """The lane of each served graph, and the replaced ones still finishing the requests that hold them."""

    settings: Settings
    metrics: Metrics
    current: dict[str, Lane] = field(default_factory=dict)
    _retiring: set[Lane] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def batchers(self) -> dict[str, Batcher]:
        """The batcher of each served model, by name."""
        return {name: lane.batcher for name, lane in self.current.items()}

    def down(self) -> dict[str, str]:
        """Lanes whose last batch failed, and why (until one of their batches succeeds)."""
        return {name: lane.batcher.down for name, lane in sorted(self.current.items()) if lane.batcher.down}

    async def start(self, model: LoadedModel | Runner) -> None:
        """A batcher for one graph, swapped in for the previous version's (which retires when idle)."""
        s = self.settings
        batcher = Batcher(
            run=model.run,
            max_batch=s.max_batch,
            max_wait_s=s.max_wait_ms / 1000.0,
            max_queue=s.queue_images,
            buckets=model.buckets,
            hooks=self.metrics.hooks(model.name),
            name=model.name,
            adaptive_wait=True,  # a lone request runs at once; concurrent ones still batch (docs/bench)
            merge=s.batching == "on",
        )
        await batcher.start()
        old = self.current.get(model.name)
        self.current[model.name] = Lane(model, batcher)  # the swap: new requests get the new version
        if old is not None:
            self._retire(old)

    def stop(self, name: str) -> None:
        """Stop serving a graph: its lane retires once the requests holding it are done."""
        self._retire(self.current.pop(name))

    def _retire(self, lane: Lane) -> None:
        """Stop a replaced or removed model's batcher once the requests holding it are done."""
        self._retiring.add(lane)
        task = asyncio.get_running_loop().create_task(self._stop_when_idle(lane), name=f"retire-{lane.model.name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stop_when_idle(self, lane: Lane) -> None:
        while lane.users:
            await lane.idle.wait()
        lane.closing = True
        await lane.batcher.stop()
        self._retiring.discard(lane)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for lane in [*self.current.values(), *self._retiring]:
            await lane.batcher.stop()

    def _lane(self, model: LoadedModel | Runner) -> Lane:
        """The lane of this model version; a request that outlived its version moves to the new one."""
        lane = self.current.get(model.name)
        if lane is not None and lane.model is model:
            return lane
        old = next((x for x in self._retiring if x.model is model and not x.closing), None)
        if old is not None:
            return old
        if lane is not None and lane.model.manifest.inputs == model.manifest.inputs:
            return lane
        raise Unavailable(f"model {model.name!r} was reloaded while this request was prepared", retry_after_s=1.0)

    async def sample(self, request: Request, model: LoadedModel | Runner, inputs: Inputs) -> np.ndarray:
        """Queue inputs on the model's batcher; give up (and drop the work) if the client leaves or the request's
        deadline passes first. The service's protocol (service/protocol.py) says when a client leaves; under
        another server (a test client) a request whose client left still runs, and nobody reads its answer."""
        lane = self._lane(model)
        until = deadline.current()
        timeout = None if until is None else until - asyncio.get_running_loop().time()
        if timeout is not None and timeout <= 0:
            raise deadline.expired("before its images were queued")
        task = asyncio.current_task()
        assert task is not None
        left = False

        def client_left() -> None:  # registered only while this request waits: `finally` removes it
            nonlocal left
            left = True
            task.cancel()  # cancels the batcher future, so take_batch drops the work

        disconnect = request.scope.get("extensions", {}).get(DISCONNECT)
        if disconnect is not None:
            disconnect.add(client_left)
        lane.enter()
        timer = None if timeout is None else asyncio.timeout(timeout)
        try:
            if timer is None:  # no deadline (the default): no timer to arm and disarm, about 5 µs a request
                return await lane.batcher.submit(inputs)
            async with timer:
                return await lane.batcher.submit(inputs)
        except asyncio.CancelledError:
            if left and task.uncancel() == 0:
                raise ClientGone() from None
            raise
        except TimeoutError:
            if timer is None or not timer.expired():
                raise
            raise deadline.expired(f"before {model.name} produced its images") from None
        except QueueFull as exc:
            raise Unavailable(f"{model.name}: {exc}", exc.retry_after_s) from None
        except BatcherStopped as exc:
            raise Unavailable(str(exc), retry_after_s=5.0) from None
        finally:
            if disconnect is not None:
                disconnect.remove(client_left)
            lane.leave()
