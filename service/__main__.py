"""`python -m service`: serve on GAN_HOST:GAN_PORT with one uvicorn worker.

Exit status: 0 after a drained shutdown (SIGTERM or SIGINT), 1 with one line on stderr when the
settings are invalid or no model can be served, 3 when the server could not start (e.g. port in use).
"""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from service.app import create_app
from service.logs import configure_logging
from service.settings import get_settings
from service.shutdown import GracefulServer

STARTUP_FAILURE = 3  # uvicorn's own code for a server that never started


def main() -> None:
    try:
        settings = get_settings()
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        sys.exit(f"service: invalid GAN_* settings: {errors}")
    configure_logging(settings.log_level)
    app = create_app(settings)
    state = app.state.service
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        log_config=None,  # keep our JSON handler
        access_log=False,  # service.access logs every request with route and latency
        log_level=settings.log_level,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_s)),
    )
    server = GracefulServer(
        config, state.drain, settings.shutdown_grace_s, settings.drain_delay_s, fatal=lambda: state.fatal
    )
    server.run()
    if state.fatal:
        sys.exit(f"service: {state.fatal}; exiting")
    if not server.started:
        sys.exit(STARTUP_FAILURE)


if __name__ == "__main__":
    main()
