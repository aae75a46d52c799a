"""The one uvicorn configuration every benchmarked server shares, the service's own.

`service/serve.py` runs uvicorn with `log_config=None, access_log=False`, a 75 s keep-alive and
uvicorn's automatic loop and HTTP implementations (uvloop and httptools when installed); the
peers run through `serve()` with the same arguments, so the comparison is between
applications, not server settings.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import uvicorn

UVICORN_OPTIONS: dict[str, Any] = {
    "workers": 1,
    "log_config": None,
    "access_log": False,
    "loop": "auto",
    "http": "auto",
    "timeout_keep_alive": 75,  # GAN_KEEPALIVE_S's default
}


def resolved_impls() -> dict[str, str]:
    """What uvicorn's `auto` picks on this machine: uvloop and httptools when they are installed."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return {"loop": loop, "http": http, "workers": "1"}


def serve(app: Any, port: int) -> None:
    """Serve `app` on 127.0.0.1:`port` until SIGINT/SIGTERM."""
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", **UVICORN_OPTIONS)
