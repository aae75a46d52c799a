"""`python -m service`: serve the models on GAN_HOST:GAN_PORT; the options below override their GAN_* settings.

Exit status: 0 after a drained shutdown (SIGTERM or SIGINT), 1 with one line on stderr when the settings
are invalid or no model can be served, 2 for a command line it does not understand (with the usage),
3 when the server could not start (e.g. port in use).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from service.logs import configure_logging
from service.serve import serve, supervise
from service.settings import Settings

LOG_LEVELS = ("debug", "info", "warning", "error")


def parser() -> argparse.ArgumentParser:
    """The command line: only what is commonly set by hand; every other knob is a GAN_* variable."""
    p = argparse.ArgumentParser(
        prog="python -m service",
        description="Serve the ONNX generators of a models directory over HTTP (FastAPI + ONNX Runtime).",
        epilog="Every other setting is a GAN_* environment variable (docs/API.md, 'Settings'). "
        "Exit status: 0 drained, 1 invalid settings or nothing to serve, 2 bad command line, 3 could not listen.",
    )
    p.add_argument("--host", help="address to listen on (GAN_HOST, default 0.0.0.0)")
    p.add_argument("--port", type=int, help="port to listen on, 0 for any free one (GAN_PORT, default 8000)")
    p.add_argument("--models-dir", type=Path, help="one folder per model (GAN_MODELS_DIR, default exported_models)")
    p.add_argument("--log-level", choices=LOG_LEVELS, help="GAN_LOG_LEVEL, default info")
    return p


def settings_from(argv: list[str] | None = None) -> Settings:
    """GAN_* settings with the command line's options on top; a bad option exits 2, a bad variable 1."""
    p = parser()
    overrides: dict[str, Any] = {k: v for k, v in vars(p.parse_args(argv)).items() if v is not None}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        errors = [(str(e["loc"][0]) if e["loc"] else "settings", e["msg"]) for e in exc.errors()]
        for field, msg in errors:
            if field in overrides:
                p.error(f"--{field.replace('_', '-')}: {msg}")
        sys.exit("service: invalid GAN_* settings: " + "; ".join(f"{field}: {msg}" for field, msg in errors))


def main(argv: list[str] | None = None) -> None:
    settings = settings_from(argv)
    configure_logging(settings.log_level)
    sys.exit(supervise(settings) if settings.workers > 1 else serve(settings))


if __name__ == "__main__":
    main()
