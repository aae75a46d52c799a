"""The HTTP ceiling: a FastAPI app whose POST /generate computes nothing (`python -m bench.noop PORT [BYTES]`).

It takes the same request the service gets and, without reading the JSON, answers a constant
PNG-typed body of BYTES bytes (default 1,000: about one 28×28 PNG of the MNIST models), so the
HTTP layer moves what it moves for the service. Its req/s is what uvicorn + FastAPI + the load
generator can do on this machine.
"""

from __future__ import annotations

import sys

from fastapi import FastAPI, Response

from bench.serve import serve

BODY_BYTES = 1000


def create_app(body_bytes: int = BODY_BYTES) -> FastAPI:
    app = FastAPI(title="no-op")
    body = bytes(body_bytes)

    @app.post("/generate")
    async def generate() -> Response:
        """Nothing at all: the cost of routing one request and sending one response."""
        return Response(content=body, media_type="image/png")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    serve(create_app(int(sys.argv[2]) if len(sys.argv) > 2 else BODY_BYTES), int(sys.argv[1]))
