"""The one uvicorn configuration every benchmarked server shares, the service's own.

`service/serve.py` runs uvicorn with `log_config=None, access_log=False`, a 75 s keep-alive,
uvicorn's automatic loop (uvloop when installed) and the service's HTTP protocol (httptools, one
socket write per response: `service/protocol.py`); the peers run through `serve()` with the same
arguments, so the comparison is between applications, not server settings.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import uvicorn

from service.protocol import OneWriteProtocol

UVICORN_OPTIONS: dict[str, Any] = {
    "workers": 1,
    "log_config": None,
    "access_log": False,
    "loop": "auto",
    "http": OneWriteProtocol,
    "timeout_keep_alive": 75,  # GAN_KEEPALIVE_S's default
}


def resolved_impls() -> dict[str, str]:
    """What the servers run on this machine: uvloop when installed (uvicorn's `auto`), httptools written once."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return {"loop": loop, "http": "httptools, one write per response", "workers": "1"}


def serve(app: Any, port: int) -> None:
    """Serve `app` on 127.0.0.1:`port` until SIGINT/SIGTERM."""
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", **UVICORN_OPTIONS)
