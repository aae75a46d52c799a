"""The naive peer: what people write first (`python -m bench.naive PORT MODEL_DIR`).

A plain FastAPI `def` endpoint (run by FastAPI's thread pool) that builds the PyTorch generator
once, then per request draws `z` with a seeded torch.Generator, runs the eager model under
`torch.no_grad()` and answers a PNG. No batching, no ONNX, torch's thread settings left as they
are. The generator is rebuilt from the manifest's ModelConfig (or its variant, for older
exports) with freshly initialised weights: only speed is compared, and the shapes and layers
are the exported model's. A model imported from elsewhere (`python -m training import`) has no PyTorch class
here, so the peer runs its ONNX file instead, as its author would first: one session with ONNX Runtime's
defaults, one run per request, no batching.
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from fastapi import FastAPI, Response
from pydantic import BaseModel, Field

from bench.serve import serve
from service.imaging import encode_grid
from training.models import Generator, ModelConfig
from training.variants import VARIANTS, Variant


def model_config(manifest: dict[str, Any]) -> ModelConfig:
    """The generator's config: recorded by newer exports, else rebuilt from the training variant."""
    training = manifest.get("training", {})
    if "model_config" in training:
        return ModelConfig(**training["model_config"])
    recorded = training.get("variant")
    if isinstance(recorded, dict):
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items()}
        variant = Variant(**fields)
    else:
        variant = VARIANTS[manifest["variant"]]
    image = manifest["image"]
    return variant.model_config(manifest.get("num_classes") or 10, image["channels"], image["height"])


def build_generator(model_dir: Path) -> Generator:
    """A freshly initialised generator with the exported model's architecture, in eval mode."""
    manifest = json.loads((model_dir / "manifest.json").read_text())
    generator = Generator(model_config(manifest))
    generator.eval()
    return generator


class GenerateBody(BaseModel):
    model: str | None = None
    n: int = Field(default=1, ge=1, le=256)
    seed: int | None = Field(default=None, ge=0, lt=2**32)


def torch_threads() -> dict[str, int]:
    return {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}


def imported_generator(model_dir: Path) -> tuple[Any, dict[str, Any]]:
    """An imported model's generator: (z, label) → images through a default ONNX Runtime session."""
    import onnxruntime as ort

    manifest = json.loads((model_dir / "manifest.json").read_text())
    session = ort.InferenceSession(str(model_dir / manifest["file"]), providers=["CPUExecutionProvider"])
    classes = manifest.get("num_classes") if manifest.get("conditional") else None

    def run(z: torch.Tensor, label: torch.Tensor | None, *_: Any) -> torch.Tensor:
        feeds = {"z": z.numpy()}
        if label is not None:
            index = label.numpy().astype(np.int64)
            feeds["label"] = np.eye(classes, dtype=np.float32)[index] if manifest["label_blend"] else index
        return torch.from_numpy(session.run(None, feeds)[0])

    return run, {"latent_dim": manifest["latent_dim"], "num_classes": classes}


def create_app(model_dir: Path) -> FastAPI:
    if "imported" in json.loads((model_dir / "manifest.json").read_text()).get("training", {}):
        generator, shape = imported_generator(model_dir)
        classes = shape["num_classes"] or 0  # the sizes the endpoint reads of a ModelConfig; no InfoGAN codes
        cfg: Any = SimpleNamespace(latent_dim=shape["latent_dim"], conditional=bool(classes), num_classes=classes)
        cfg.n_cat = cfg.n_cont = 0
    else:
        generator = build_generator(model_dir)
        cfg = generator.cfg
    app = FastAPI(title="naive peer")

    @app.post("/generate")
    def generate(body: GenerateBody) -> Response:
        """One eager forward pass per request, in a worker thread."""
        seed = body.seed if body.seed is not None else secrets.randbelow(2**32)
        rng = torch.Generator().manual_seed(seed)
        z = torch.randn(body.n, cfg.latent_dim, generator=rng)
        label = torch.randint(cfg.num_classes, (body.n,), generator=rng) if cfg.conditional else None
        c_cat = torch.randint(cfg.n_cat, (body.n,), generator=rng) if cfg.n_cat else None
        c_cont = torch.rand(body.n, cfg.n_cont, generator=rng) * 2 - 1 if cfg.n_cat else None
        with torch.no_grad():
            images = generator(z, label, c_cat, c_cont)
        return Response(content=encode_grid(images.numpy()), media_type="image/png")

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "torch_threads": torch_threads(), "torch": torch.__version__}

    return app


if __name__ == "__main__":
    serve(create_app(Path(sys.argv[2])), int(sys.argv[1]))
