"""The HTTP ceiling: a FastAPI app whose POST /generate does nothing (`python -m bench.noop PORT`).

It takes the same request the service gets and answers an empty PNG-typed body without reading
the JSON, so its req/s is what uvicorn + FastAPI + the load generator can do on this machine.
"""

from __future__ import annotations

import sys

from fastapi import FastAPI, Response

from bench.serve import serve


def create_app() -> FastAPI:
    app = FastAPI(title="no-op")

    @app.post("/generate")
    async def generate() -> Response:
        """Nothing at all: the cost of routing one request and sending one response."""
        return Response(content=b"", media_type="image/png")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    serve(create_app(), int(sys.argv[1]))
