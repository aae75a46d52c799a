"""Dynamic batching: gather images from concurrent requests into one model run.

Knows nothing of HTTP, ORT or metrics backends. Callers `submit()` named input arrays with
a leading batch axis; the batcher queues them as `Job`s, forms batches with the pure
`take_batch()` when `max_batch` images are waiting or the oldest has waited `max_wait_s`,
runs the model in its own thread and hands each job its slice of the output. The next batch is
formed while one runs and waits in that thread, so the model goes from one to the next without
waiting for the event loop's turn; a batch whose callers have all left by then is not run. A batch is
taken only when the thread has room for it, so with `max_wait_s` 0 (the service's default) it holds
every job that arrived while the thread was full: under load batches fill without any timer.

With `adaptive_wait`, the batcher waits only for the company recent batches suggest is coming:
a batch also fires once as many jobs wait as the last batch held (`expected_jobs`, halved after
each smaller batch). A lone caller therefore runs at once instead of waiting `max_wait_s` for
nobody, while under load batches still fill up to `max_batch` or `max_wait_s`. With `merge` off,
requests are never merged: each run holds one job (one request's rows, up to `max_batch`).

The loop is supervised: whatever raises while a batch is formed, padded, run or handed out fails
that batch's jobs with `BatchFailed` (logged once, here) and the loop goes on with the next one;
`down` says why the last batch failed until a batch succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

Inputs = dict[str, np.ndarray]  # input name -> array with a leading batch axis
RunFn = Callable[[Inputs], np.ndarray]  # runs one batch, returns (rows, ...) in input order
Output = tuple[np.ndarray, float]  # a batch's output rows and the seconds the model took

PIPELINE = 2  # batches handed to the model's thread at once: while one runs, the next waits there (docs/bench)

log = logging.getLogger(__name__)
RETRY_S = 0.1  # pause after a failure that took no job, so a loop that keeps failing does not spin


class QueueFull(Exception):
    """The queue holds too many images: the caller should retry later (HTTP 503)."""

    def __init__(self, depth: int, limit: int, retry_after_s: float = 1.0) -> None:
        super().__init__(f"queue full: {depth} images waiting, limit {limit}")
        self.retry_after_s = retry_after_s


class BatcherStopped(Exception):
    """The batcher is not running (not started yet, or shutting down)."""


class BatchFailed(Exception):
    """The batch a job was in failed, in the model or in the batcher (HTTP 500); the batcher logged why."""

    def __init__(self, lane: str, reason: str) -> None:
        super().__init__(f"{lane}: batch failed: {reason}")
        self.lane = lane


@dataclass(eq=False)
class Job:
    """One chunk of a request: its inputs, the future of its output, when it was queued."""

    inputs: Inputs
    size: int
    future: asyncio.Future[np.ndarray]
    enqueued: float  # event-loop clock


@dataclass
class BatcherHooks:
    """Observers injected by the app (metrics); the defaults do nothing."""

    on_batch: Callable[[int, float], None] = lambda images, seconds: None
    on_depth: Callable[[int], None] = lambda images: None


def name_os_thread(name: str) -> None:
    """Give the calling thread `name` in the kernel too (Linux keeps 15 bytes), where `top -H`, `ps -L` and
    /proc/PID/task show it: Python 3.11 names its threads only for itself."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # 15: PR_SET_NAME


class InferenceThread:
    """The model's own thread: runs batches one at a time, in the order submitted, and hands each result (and
    how long the model took) back to the event loop with one `call_soon_threadsafe`.

    `loop.run_in_executor` did the same through an executor future, a work item, a semaphore and a
    chained asyncio future: about 11% of the event loop's time at concurrency 1, where every request is
    a batch of its own (docs/bench).
    """

    def __init__(self, run: RunFn, name: str) -> None:
        self._run = run
        self._jobs: queue.SimpleQueue[tuple[Inputs, Callable[[], bool], asyncio.Future[Output]] | None] = (
            queue.SimpleQueue()
        )
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def submit(self, inputs: Inputs, wanted: Callable[[], bool]) -> asyncio.Future[Output]:
        """Queue one batch; the future gets its output and run seconds (or the model's exception), or is
        cancelled when `wanted()` says, as the batch's turn comes, that nobody waits for it any more."""
        future = self._loop.create_future()
        self._jobs.put((inputs, wanted, future))
        return future

    def stop(self) -> None:
        """End the thread once the batch it is running, if any, is done; nobody reads that result."""
        self._jobs.put(None)

    def _serve(self) -> None:
        name_os_thread(threading.current_thread().name)
        while (job := self._jobs.get()) is not None:
            inputs, wanted, future = job
            if not wanted():  # every caller left while the batch waited behind the one before
                self._hand_back(future.cancel)
                continue
            result: Output | None = None
            error: Exception | None = None
            started = time.perf_counter()
            try:
                result = (self._run(inputs), time.perf_counter() - started)
            except Exception as exc:  # the caller re-raises it on the event loop
                error = exc
            self._hand_back(_settle, future, result, error)

    def _hand_back(self, callback: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            self._loop.call_soon_threadsafe(callback, *args)


def _settle(future: asyncio.Future[Output], result: Output | None, error: Exception | None) -> None:
    if future.done():  # cancelled: the batcher stopped meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)


def take_batch(queue: deque[Job], max_images: int, max_jobs: int | None = None) -> list[Job]:
    """Pop jobs in FIFO order while they fit in `max_images` (and `max_jobs`), dropping jobs whose caller left.

    The first live job is always taken, so a job larger than `max_images` cannot block the queue.
    """
    batch: list[Job] = []
    total = 0
    while queue:
        job = queue[0]
        if job.future.done():  # cancelled: the caller went away
            queue.popleft()
            continue
        if batch and (total + job.size > max_images or len(batch) == max_jobs):
            break
        batch.append(queue.popleft())
        total += job.size
    return batch


def live_images(queue: deque[Job]) -> int:
    """Images still wanted by some caller."""
    return sum(job.size for job in queue if not job.future.done())


def bucket_size(rows: int, buckets: Sequence[int] | None) -> int:
    """Smallest bucket that holds `rows`; `rows` itself when there are no (large enough) buckets."""
    return min((b for b in buckets or () if b >= rows), default=rows)


def pad_rows(inputs: Inputs, rows: int) -> Inputs:
    """Pad every input with zero rows up to `rows`, so the model always sees a fixed shape."""
    out = {}
    for name, arr in inputs.items():
        extra = rows - arr.shape[0]
        out[name] = arr if extra <= 0 else np.concatenate([arr, np.zeros((extra, *arr.shape[1:]), arr.dtype)])
    return out


def chunk(inputs: Inputs, size: int) -> list[Inputs]:
    """Split a request into pieces of at most `size` rows."""
    rows = next(iter(inputs.values())).shape[0]
    return [{k: v[i : i + size] for k, v in inputs.items()} for i in range(0, rows, size)]


@dataclass
class Batcher:
    """One per model. `start()` before use; `stop()` fails whatever is still pending."""

    run: RunFn
    max_batch: int
    max_wait_s: float
    max_queue: int
    buckets: Sequence[int] | None = None  # fixed batch shapes to pad to; None: run the exact size
    hooks: BatcherHooks = field(default_factory=BatcherHooks)
    name: str = "model"
    adaptive_wait: bool = False  # also fire once `expected_jobs` jobs wait (see the module docstring)
    merge: bool = True  # False: one job per run, at once (GAN_BATCHING=off)
    expected_jobs: int = field(default=1, init=False)  # jobs in recent batches: the company worth waiting for
    down: str | None = field(default=None, init=False)  # why the last batch failed; None once one succeeds
    _queue: deque[Job] = field(default_factory=deque, init=False)
    _queued_images: int = field(default=0, init=False)  # in _queue, callers that left included: O(1) bound checks
    _running: list[list[Job]] = field(default_factory=list, init=False)  # batches handed to the thread
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _freed: asyncio.Event = field(default_factory=asyncio.Event, init=False)  # a batch left the thread
    _task: asyncio.Task[None] | None = field(default=None, init=False)
    _thread: InferenceThread | None = field(default=None, init=False)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def depth(self) -> int:
        """Images queued and not yet taken into a batch."""
        return live_images(self._queue)

    async def start(self) -> None:
        """Start the batching loop and the model's inference thread (idempotent)."""
        if self.running:
            return
        self._thread = InferenceThread(self.run, name=f"infer-{self.name}")
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"batcher-{self.name}")

    async def stop(self) -> None:
        """Stop the loop and fail every queued or running job with `BatcherStopped`."""
        task, self._task = self._task, None
        pending = [*self._queue, *(job for batch in self._running for job in batch)]
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for job in pending:
            if not job.future.done():
                job.future.set_exception(BatcherStopped(f"{self.name}: batcher stopped"))
                job.future.exception()  # nobody may await it any more; don't warn about that
        self._queue.clear()
        self._queued_images = 0
        self._running = []
        self.hooks.on_depth(0)
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    async def submit(self, inputs: Inputs) -> np.ndarray:
        """Queue a request's rows and wait for its output rows, in order.

        Raises QueueFull at once when the queue is past its bound (an empty queue always
        accepts, so one large request cannot be refused forever), BatcherStopped when not running.
        """
        rows = {arr.shape[0] for arr in inputs.values()}
        if len(rows) != 1 or 0 in rows:
            raise ValueError(f"inputs need one common, non-zero batch size, got {sorted(rows)}")
        n = rows.pop()
        if not self.running:
            raise BatcherStopped(f"{self.name}: batcher not running")
        depth = self._queued_images
        if depth and depth + n > self.max_queue:
            depth = self.depth  # exact, without the jobs of callers that left
            if depth and depth + n > self.max_queue:
                raise QueueFull(depth, self.max_queue)
        loop = asyncio.get_running_loop()
        now = loop.time()
        if n <= self.max_batch:  # the common case: one job, awaited directly
            job = Job(inputs, n, loop.create_future(), now)
            self._enqueue([job], depth + n)
            return await job.future  # cancelling the caller cancels the future: take_batch drops it
        jobs = [
            Job(part, next(iter(part.values())).shape[0], loop.create_future(), now)
            for part in chunk(inputs, self.max_batch)
        ]
        self._enqueue(jobs, depth + n)
        futures = [job.future for job in jobs]
        try:
            parts = await asyncio.gather(*futures)
        except BaseException:
            for fut in futures:  # drop the rest of this request: nobody will read it
                if not fut.done():
                    fut.cancel()
                elif not fut.cancelled():
                    fut.exception()
            raise
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _enqueue(self, jobs: list[Job], depth: int) -> None:
        self._queue.extend(jobs)
        self._queued_images += sum(job.size for job in jobs)
        self.hooks.on_depth(depth)
        self._wakeup.set()

    async def _loop(self) -> None:
        while True:
            batch: list[Job] = []
            try:
                await self._wait_for_batch()
                await self._wait_for_room()
                batch = take_batch(self._queue, self.max_batch, None if self.merge else 1)
                self._queued_images = sum(job.size for job in self._queue)
                self.hooks.on_depth(self.depth)
                if batch:
                    self.expected_jobs = max(len(batch), self.expected_jobs // 2)
                    self._hand(batch)
            except Exception as exc:  # supervised: this batch fails, the loop goes on
                self._fail(batch, exc)
                if not batch:
                    await asyncio.sleep(RETRY_S)

    async def _wait_for_room(self) -> None:
        """Return once the model's thread holds fewer than PIPELINE batches. The batch is taken only then, so
        it holds every job that arrived meanwhile, and the thread starts it as soon as the one before ends,
        without waiting for the event loop's turn."""
        while len(self._running) >= PIPELINE:
            self._freed.clear()
            await self._freed.wait()

    def _fail(self, batch: list[Job], exc: Exception) -> None:
        """Fail every job of the batch with BatchFailed and log the cause once, for all of them."""
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        self.down = reason
        log.error("%s: a batch of %d images failed: %s", self.name, sum(j.size for j in batch), reason, exc_info=exc)
        for job in batch:
            if not job.future.done():
                job.future.set_exception(BatchFailed(self.name, reason))

    def _has_company(self) -> bool:
        """Enough waits to run now: `max_batch` images, or (adaptive) as many jobs as recent batches held;
        any job when requests are not merged."""
        if not self.merge:
            return True
        if self._queued_images >= self.max_batch and live_images(self._queue) >= self.max_batch:
            return True
        return self.adaptive_wait and len(self._queue) >= self.expected_jobs

    async def _wait_for_batch(self) -> None:
        """Return once `max_batch` images wait, the oldest live one has waited `max_wait_s`,
        or (adaptive) the company recent batches suggest is waiting."""
        loop = asyncio.get_running_loop()
        while True:
            while self._queue and self._queue[0].future.done():
                self._queued_images -= self._queue.popleft().size
            if self._queue:
                break
            self._wakeup.clear()
            await self._wakeup.wait()
        deadline = self._queue[0].enqueued + self.max_wait_s
        while not self._has_company():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                return

    def _hand(self, batch: list[Job]) -> None:
        """Join the batch's inputs and queue them on the model's thread; `_deliver` hands out the output."""
        total = sum(job.size for job in batch)
        inputs = batch[0].inputs
        if len(batch) > 1:
            inputs = {k: np.concatenate([job.inputs[k] for job in batch]) for k in inputs}
        rows = bucket_size(total, self.buckets)
        if rows != total:
            inputs = pad_rows(inputs, rows)
        assert self._thread is not None
        # Read from the model's thread: a future's state is one attribute, which the GIL reads whole.
        future = self._thread.submit(inputs, lambda: any(not job.future.done() for job in batch))
        future.add_done_callback(lambda done: self._deliver(batch, total, rows, done))
        self._running.append(batch)

    def _deliver(self, batch: list[Job], total: int, rows: int, future: asyncio.Future[Output]) -> None:
        """Hand each job its rows of a finished batch, or fail them all with what went wrong."""
        if batch not in self._running:
            return  # stopped meanwhile: stop() failed these jobs
        self._running.remove(batch)
        self._freed.set()
        if future.cancelled():
            return  # every caller left before the model took it up
        try:
            out, seconds = future.result()
            self.hooks.on_batch(total, seconds)
            if out.shape[0] != rows:
                raise RuntimeError(f"{self.name}: model returned {out.shape[0]} rows for {rows}")
        except Exception as exc:  # the model's error, or a hook's: this batch fails, later ones go on
            self._fail(batch, exc)
            return
        self.down = None
        offset = 0
        for job in batch:
            if not job.future.done():
                job.future.set_result(out[offset : offset + job.size])
            offset += job.size
