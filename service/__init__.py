"""GAN sampling service: ONNX Runtime generators behind a FastAPI HTTP API.

Importing the package is cheap on purpose: sessions, batchers and settings are created in
`service.app.create_app` and its lifespan, never at import time.
"""

import os

# ONNX Runtime's telemetry off, before any module imports onnxruntime: its import would otherwise write a device id
# under $HOME/.cache (baked into an image by the build's import check, one id shared by every container) and warn at
# start-up where $HOME is read-only. The variable stops the telemetry before it starts; nothing is written or sent.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

__version__ = "0.1.0"
