"""`python -m service`: serve on GAN_HOST:GAN_PORT with one uvicorn worker."""

from __future__ import annotations

import uvicorn

from service.app import create_app
from service.logs import configure_logging
from service.settings import get_settings


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        log_config=None,  # keep our JSON handler
        access_log=False,  # service.access logs every request with route and latency
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
