"""service.batcher's adaptive wait (made for the benchmark's low-concurrency latency): deterministic, no timing."""

import asyncio
import threading

import numpy as np

from service.batcher import Batcher

FOREVER = 1000.0  # a max_wait no test reaches: batches can only fire by company


class GatedModel:
    """Doubles z and records batch sizes; `gate` holds a batch inside the model."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        self.gate.wait(5)
        self.calls.append(len(inputs["z"]))
        return 2 * inputs["z"]


def _rows(*values: float) -> dict[str, np.ndarray]:
    return {"z": np.array(values, np.float32).reshape(-1, 1)}


def _batcher(model: GatedModel, adaptive: bool = True, max_wait_s: float = FOREVER) -> Batcher:
    return Batcher(run=model, max_batch=8, max_wait_s=max_wait_s, max_queue=100, adaptive_wait=adaptive)


def test_a_lone_caller_runs_at_once_instead_of_waiting_for_company():
    async def main():
        model = GatedModel()
        b = _batcher(model)
        await b.start()
        out = await asyncio.wait_for(b.submit(_rows(1)), timeout=5)
        await b.stop()
        return model.calls, out.item()

    assert asyncio.run(main()) == ([1], 2.0)


def test_without_adaptive_wait_a_lone_caller_waits_for_a_full_batch():
    async def main():
        model = GatedModel()
        b = _batcher(model, adaptive=False)
        await b.start()
        task = asyncio.ensure_future(b.submit(_rows(1)))
        done, _ = await asyncio.wait([task], timeout=0.1)
        await b.stop()
        return done, model.calls

    done, calls = asyncio.run(main())
    assert not done and calls == []


def test_after_a_batch_of_three_the_next_batch_waits_for_three_jobs():
    async def main():
        model = GatedModel()
        b = _batcher(model)
        await b.start()
        model.gate.clear()
        first = asyncio.ensure_future(b.submit(_rows(1)))  # runs alone, held in the model
        await asyncio.sleep(0.05)
        queued = [asyncio.ensure_future(b.submit(_rows(v))) for v in (2, 3, 4)]  # wait behind it
        await asyncio.sleep(0.05)
        model.gate.set()
        await asyncio.gather(first, *queued)  # the three ran together: expect three from now on
        assert b.expected_jobs == 3
        pair = [asyncio.ensure_future(b.submit(_rows(v))) for v in (5, 6)]
        done, _ = await asyncio.wait(pair, timeout=0.1)
        assert not done  # two of the three expected: still waiting
        third = asyncio.ensure_future(b.submit(_rows(7)))
        out = await asyncio.gather(*pair, third)
        await b.stop()
        return model.calls, [o.item() for o in out]

    calls, out = asyncio.run(main())
    assert calls == [1, 3, 3] and out == [10.0, 12.0, 14.0]


def test_expected_company_halves_after_each_smaller_batch():
    async def main():
        model = GatedModel()
        b = _batcher(model, max_wait_s=0.01)
        await b.start()
        b.expected_jobs = 8
        for v in range(3):
            await b.submit(_rows(v))  # each waits max_wait for company that does not come
        await b.stop()
        return model.calls, b.expected_jobs

    assert asyncio.run(main()) == ([1, 1, 1], 1)
