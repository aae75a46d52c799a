"""Python client and `gan` command line for the GAN sampling service."""

from .client import AsyncGanClient, GanClient, GanError, Png

__all__ = ["AsyncGanClient", "GanClient", "GanError", "Png"]
