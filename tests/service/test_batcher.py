"""The batcher at three levels: pure take_batch() on a deque, the async loop with a fake model, and a real
server whose model fails on some batches."""

import asyncio
import json
import logging
import threading
from collections import deque

import numpy as np
import pytest

from service.batcher import (
    Batcher,
    BatcherHooks,
    BatcherStopped,
    BatchFailed,
    Job,
    QueueFull,
    bucket_size,
    chunk,
    pad_rows,
    take_batch,
)
from service.sampling import draw

from .conftest import write_tiny_model
from .launch import serving

# ---------- pure parts ----------


class _Fut:
    """Just enough of a future for take_batch."""

    def __init__(self, done: bool = False) -> None:
        self._done = done

    def done(self) -> bool:
        return self._done


def _job(size: int, done: bool = False) -> Job:
    return Job({"z": np.zeros((size, 1), np.float32)}, size, _Fut(done), 0.0)  # type: ignore[arg-type]


def test_take_batch_fills_up_to_the_limit_in_order():
    q = deque([_job(3), _job(4), _job(2), _job(1)])
    assert [j.size for j in take_batch(q, 8)] == [3, 4]
    assert [j.size for j in q] == [2, 1]  # no skipping ahead: FIFO
    assert [j.size for j in take_batch(q, 8)] == [2, 1] and not q


def test_take_batch_drops_jobs_whose_caller_left():
    q = deque([_job(5, done=True), _job(2), _job(3, done=True), _job(4)])
    assert [j.size for j in take_batch(q, 10)] == [2, 4]
    assert not q


def test_take_batch_always_takes_the_first_live_job():
    q = deque([_job(20), _job(1)])
    assert [j.size for j in take_batch(q, 8)] == [20]
    assert take_batch(deque(), 8) == []


def test_buckets_padding_and_chunks():
    assert bucket_size(3, (4, 8)) == 4 and bucket_size(8, (4, 8)) == 8 and bucket_size(9, (4, 8)) == 9
    assert bucket_size(3, None) == 3
    padded = pad_rows({"z": np.ones((3, 2), np.float32), "label": np.array([1, 2, 3])}, 5)
    assert padded["z"].shape == (5, 2) and padded["z"][3:].sum() == 0 and padded["label"].tolist() == [1, 2, 3, 0, 0]
    parts = chunk({"z": np.arange(10).reshape(10, 1)}, 4)
    assert [p["z"].ravel().tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


# ---------- the async loop ----------


class FakeModel:
    """Doubles z; records the batch sizes it saw; can be told to block or fail."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail = False
        self.short = False

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        self.gate.wait(5)
        self.calls.append(len(inputs["z"]))
        if self.fail:
            raise RuntimeError("model exploded")
        return 2 * inputs["z"][: -1 if self.short else None]


def _rows(*values: float) -> dict[str, np.ndarray]:
    return {"z": np.array(values, np.float32).reshape(-1, 1)}


def _batcher(model: FakeModel, **kw) -> Batcher:
    opts = {"max_batch": 4, "max_wait_s": 1000.0, "max_queue": 100} | kw
    return Batcher(run=model, **opts)


def test_a_batch_fires_only_when_full():
    async def main():
        model = FakeModel()
        b = _batcher(model, max_batch=3)
        await b.start()
        t1 = asyncio.create_task(b.submit(_rows(1)))
        t2 = asyncio.create_task(b.submit(_rows(2)))
        done, _ = await asyncio.wait([t1, t2], timeout=0.1)
        assert not done and model.calls == []
        t3 = asyncio.create_task(b.submit(_rows(3)))
        results = await asyncio.gather(t1, t2, t3)
        await b.stop()
        return model.calls, [r.ravel().tolist() for r in results]

    calls, results = asyncio.run(main())
    assert calls == [3] and results == [[2.0], [4.0], [6.0]]


def test_a_partial_batch_fires_after_max_wait():
    async def main():
        model = FakeModel()
        b = _batcher(model, max_batch=64, max_wait_s=0.02)
        await b.start()
        out = await asyncio.gather(b.submit(_rows(1, 2)), b.submit(_rows(3)))
        await b.stop()
        return model.calls, out

    calls, out = asyncio.run(main())
    assert calls == [3] and out[0].ravel().tolist() == [2, 4] and out[1].ravel().tolist() == [6]


def test_large_requests_are_chunked_and_reassembled_in_order():
    async def main():
        model = FakeModel()
        b = _batcher(model, max_batch=4, max_wait_s=0.0)
        await b.start()
        out = await b.submit(_rows(*range(10)))
        await b.stop()
        return model.calls, out

    calls, out = asyncio.run(main())
    assert calls == [4, 4, 2] and out.ravel().tolist() == [2 * i for i in range(10)]


def test_a_model_error_reaches_every_job_of_the_batch():
    async def main():
        model = FakeModel()
        model.fail = True
        b = _batcher(model, max_batch=2)
        await b.start()
        results = await asyncio.gather(b.submit(_rows(1)), b.submit(_rows(2)), return_exceptions=True)
        await b.stop()
        return results

    results = asyncio.run(main())
    assert all(isinstance(r, BatchFailed) and "exploded" in str(r) for r in results)


def test_a_wrong_row_count_is_an_error_not_a_misaligned_answer():
    async def main():
        model = FakeModel()
        model.short = True
        b = _batcher(model, max_batch=2)
        await b.start()
        results = await asyncio.gather(b.submit(_rows(1)), b.submit(_rows(2)), return_exceptions=True)
        await b.stop()
        return results

    assert all(isinstance(r, BatchFailed) and "rows" in str(r) for r in asyncio.run(main()))


def test_queue_bound_refuses_at_once_but_an_empty_queue_takes_anything():
    async def main():
        model = FakeModel()
        model.gate.clear()  # hold the first batch in the model
        b = _batcher(model, max_batch=2, max_wait_s=0.0, max_queue=1)
        await b.start()
        big = asyncio.create_task(b.submit(_rows(*range(6))))  # larger than the bound, queue empty: accepted
        await asyncio.sleep(0.05)  # chunk 1 is in the model, chunk 2 waits in its thread (PIPELINE), 2 images queue
        assert b.depth == 2
        with pytest.raises(QueueFull):
            await b.submit(_rows(9))
        model.gate.set()
        out = await big
        await b.stop()
        return out

    assert asyncio.run(main()).ravel().tolist() == [0, 2, 4, 6, 8, 10]


def test_the_next_batch_waits_in_the_model_thread_while_one_runs():
    async def main():
        model = FakeModel()
        model.gate.clear()  # hold the first batch in the model
        b = _batcher(model, max_batch=1, max_wait_s=0.0)
        await b.start()
        calls = [asyncio.create_task(b.submit(_rows(i))) for i in range(4)]
        await asyncio.sleep(0.05)
        depth = b.depth  # one batch runs, the next is handed to the thread (PIPELINE = 2), two wait
        model.gate.set()
        out = await asyncio.gather(*calls)
        await b.stop()
        return depth, [o.item() for o in out]

    assert asyncio.run(main()) == (2, [0.0, 2.0, 4.0, 6.0])


def test_a_batch_whose_callers_left_while_it_waited_in_the_thread_never_runs():
    async def main():
        model = FakeModel()
        model.gate.clear()
        b = _batcher(model, max_batch=2, max_wait_s=0.0)
        await b.start()
        first = asyncio.create_task(b.submit(_rows(1)))
        await asyncio.sleep(0.05)  # in the model
        left = asyncio.create_task(b.submit(_rows(2, 3)))
        await asyncio.sleep(0.05)  # handed to the thread, behind the first
        left.cancel()
        model.gate.set()
        out = await first
        after = await asyncio.wait_for(b.submit(_rows(4)), 5)  # the loop goes on
        await b.stop()
        return out.item(), after.item(), model.calls

    assert asyncio.run(main()) == (2.0, 8.0, [1, 1])


def test_jobs_of_callers_that_left_are_dropped_before_batching():
    async def main():
        model = FakeModel()
        b = _batcher(model, max_batch=3)
        await b.start()
        gone = asyncio.create_task(b.submit(_rows(100, 101)))
        await asyncio.sleep(0.01)
        gone.cancel()
        out = await asyncio.gather(b.submit(_rows(1)), b.submit(_rows(2)), b.submit(_rows(3)))
        await b.stop()
        return model.calls, out

    calls, out = asyncio.run(main())
    assert calls == [3] and [o.item() for o in out] == [2, 4, 6]


def test_stop_fails_pending_jobs_and_submit_needs_start():
    async def main():
        model = FakeModel()
        b = _batcher(model)
        with pytest.raises(BatcherStopped):
            await b.submit(_rows(1))
        await b.start()
        pending = asyncio.create_task(b.submit(_rows(1)))
        await asyncio.sleep(0.01)
        await b.stop()
        with pytest.raises(BatcherStopped):
            await pending
        assert not b.running

    asyncio.run(main())


def test_fixed_buckets_pad_the_model_input_and_trim_the_output():
    async def main():
        model = FakeModel()
        b = _batcher(model, max_batch=8, max_wait_s=0.0, buckets=(8,))
        await b.start()
        out = await b.submit(_rows(1, 2, 3))
        await b.stop()
        return model.calls, out

    calls, out = asyncio.run(main())
    assert calls == [8] and out.ravel().tolist() == [2, 4, 6]


def test_hooks_see_batches_and_queue_depth():
    seen: dict[str, list] = {"batch": [], "depth": []}
    hooks = BatcherHooks(
        on_batch=lambda n, s: seen["batch"].append((n, s >= 0)), on_depth=lambda d: seen["depth"].append(d)
    )

    async def main():
        b = _batcher(FakeModel(), max_batch=2, hooks=hooks)
        await b.start()
        await asyncio.gather(b.submit(_rows(1)), b.submit(_rows(2)))
        await b.stop()

    asyncio.run(main())
    assert seen["batch"] == [(2, True)]
    assert 2 in seen["depth"] and seen["depth"][-1] == 0


def test_inputs_must_share_one_batch_size():
    async def main():
        b = _batcher(FakeModel())
        await b.start()
        try:
            with pytest.raises(ValueError):
                await b.submit({"z": np.zeros((2, 1), np.float32), "label": np.zeros(3, np.int64)})
        finally:
            await b.stop()

    asyncio.run(main())


def test_batching_off_runs_each_request_alone_with_its_rows_together():
    """`merge=False` (GAN_BATCHING=off): one request per run, at once, its rows in one run up to max_batch."""

    async def main():
        model = FakeModel()
        b = _batcher(model, merge=False)  # max_wait 1000 s: a run that waited for company would never come
        await b.start()
        model.gate.clear()
        first = asyncio.ensure_future(b.submit(_rows(1, 2)))  # held in the model
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(b.submit(_rows(v))) for v in (3, 4, 5)]
        rest.append(asyncio.ensure_future(b.submit(_rows(6, 7, 8, 9, 10, 11))))  # 6 rows: chunks of 4 and 2
        await asyncio.sleep(0.05)
        model.gate.set()
        out = await asyncio.wait_for(asyncio.gather(first, *rest), 5)
        await b.stop()
        return model.calls, [o.ravel().tolist() for o in out]

    calls, out = asyncio.run(main())
    assert calls == [2, 1, 1, 1, 4, 2]
    assert out == [[2, 4], [6], [8], [10], [12, 14, 16, 18, 20, 22]]


def _failing_batch_then_a_good_one(b: Batcher, bad: list[dict[str, np.ndarray]]) -> tuple[list, str | None, float]:
    """Submit `bad` together, then one good request; return the bad results, `b.down` between, the good result."""

    async def main():
        await b.start()
        results = await asyncio.wait_for(asyncio.gather(*(b.submit(x) for x in bad), return_exceptions=True), 5)
        down = b.down
        good = await asyncio.wait_for(b.submit(_rows(5)), 5)
        assert b.down is None
        await b.stop()
        return results, down, good.item()

    return asyncio.run(main())


def test_inputs_that_cannot_be_joined_fail_their_batch_once_and_the_loop_goes_on(caplog):
    caplog.set_level(logging.ERROR, logger="service.batcher")
    b = _batcher(FakeModel(), max_batch=2, max_wait_s=0.01, name="m")
    results, down, good = _failing_batch_then_a_good_one(b, [_rows(1), {"z": np.zeros((1, 2), np.float32)}])
    assert all(isinstance(r, BatchFailed) for r in results), results
    assert down and "concatenat" in down and good == 10.0
    assert len(caplog.records) == 1 and "m" in caplog.records[0].getMessage()


def test_a_failing_hook_fails_the_batch_not_the_loop():
    calls = []

    def on_batch(images: int, seconds: float) -> None:
        calls.append(images)
        if len(calls) == 1:
            raise ValueError("metrics backend gone")

    b = _batcher(FakeModel(), max_batch=1, hooks=BatcherHooks(on_batch=on_batch))
    results, down, good = _failing_batch_then_a_good_one(b, [_rows(1)])
    assert isinstance(results[0], BatchFailed) and down and "metrics backend gone" in down
    assert good == 10.0 and calls == [1, 1]


# ---------- a real server whose model fails ----------

FAILS_ABOVE = 3.0  # the broken model raises for a batch holding a seed whose z[0] is above this


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory):
    models = tmp_path_factory.mktemp("broken_models")
    write_tiny_model(models, "tiny-broken", fails_above=FAILS_ABOVE)
    write_tiny_model(models, "tiny-dcgan")
    log = tmp_path_factory.mktemp("broken_server") / "server.log"
    with serving(models, log, max_batch=8) as server:
        yield server


def test_a_failing_model_answers_500_logged_once_and_readyz_reports_its_lane_down(broken_server):
    bad = next(s for s in range(100_000) if draw(s, 8).z[0] > FAILS_ABOVE)
    assert bad >= 16, "the broken model would already fail its start-up checks"
    with broken_server.client() as c:
        assert c.get("/readyz").json()["down"] == {}
        r = c.post("/generate", json={"model": "tiny-broken", "seed": bad})
        assert r.status_code == 500 and "tiny-broken" in r.json()["detail"]
        ready = c.get("/readyz")
        assert ready.status_code == 200 and "out of data bounds" in ready.json()["down"]["tiny-broken"]
        assert c.post("/generate", json={"model": "tiny-dcgan", "seed": bad}).status_code == 200
        assert c.post("/generate", json={"model": "tiny-broken", "seed": 1}).status_code == 200
        assert c.get("/readyz").json()["down"] == {}
    records = [json.loads(line) for line in broken_server.text().splitlines() if line.startswith("{")]
    failures = [r for r in records if "out of data bounds" in json.dumps(r)]
    assert len(failures) == 1 and failures[0]["logger"] == "service.batcher", failures
    assert "out of data bounds" not in "".join(x for x in broken_server.text().splitlines() if not x.startswith("{"))
