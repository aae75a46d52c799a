"""GAN sampling service: ONNX Runtime generators behind a FastAPI HTTP API.

Importing the package is cheap on purpose: sessions, batchers and settings are created in
`service.app.create_app` and its lifespan, never at import time.
"""

__version__ = "0.1.0"
