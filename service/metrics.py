"""Prometheus metrics, on a per-app CollectorRegistry so several apps in one process don't clash."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from service.batcher import BatcherHooks

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """The service's instruments; `hooks(model)` adapts them for a model's batcher."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "gan_http_requests", "HTTP requests by route and status", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "gan_http_request_duration_seconds",
            "HTTP request latency by route and status",
            ["route", "method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "gan_batch_size_images", "Images per model run", ["model"], buckets=_BATCH_BUCKETS, registry=r
        )
        self.queue_depth = Gauge("gan_queue_depth_images", "Images waiting for a batch", ["model"], registry=r)
        self.inference = Histogram(
            "gan_inference_duration_seconds",
            "Wall time of one model run",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.models_loaded = Gauge("gan_models_loaded", "Models being served", registry=r)
        # With GAN_WORKERS > 1 each worker has its own figures and a scrape reaches one of them: this says which.
        worker = Gauge("gan_worker", "The process that answered this scrape", ["pid"], registry=r)
        worker.labels(str(os.getpid())).set(1)
        self._request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished HTTP request and record its latency.

        The labelled children are kept per (route, method, status): `labels()` validates and locks on
        every call, which is work each request repeated for the same few series.
        """
        key = (route, method, status)
        series = self._request_series.get(key)
        if series is None:
            labels = (route, method, str(status))
            series = self._request_series[key] = (self.requests.labels(*labels), self.latency.labels(*labels))
        series[0].inc()
        series[1].observe(seconds)

    def hooks(self, model: str) -> BatcherHooks:
        """Batcher observers feeding this model's batch-size, inference-time and queue-depth series."""
        batch, inference, depth = (
            self.batch_size.labels(model),
            self.inference.labels(model),
            self.queue_depth.labels(model),
        )

        def on_batch(images: int, seconds: float) -> None:
            batch.observe(images)
            inference.observe(seconds)

        return BatcherHooks(on_batch=on_batch, on_depth=depth.set)

    def render(self) -> bytes:
        """Prometheus text exposition of this app's registry only."""
        return generate_latest(self.registry)
