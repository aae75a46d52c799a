"""Reading a GAN run's checkpoint back, in one place export, the trainer and the encoder reach alike: the averaged
generator it holds, and the library versions it records (Trainer.save and StepRun write them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .models import Generator, ModelConfig


def library_versions() -> dict[str, str]:
    import platform

    import onnx
    import onnxruntime

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }


def load_generator(checkpoint: Path) -> tuple[Generator, dict]:
    """Rebuild the averaged generator from a checkpoint alone, in eval mode: the weights of the lowest validation
    FID when the run was validated, else the last."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    G = Generator(ModelConfig(**state["model_config"]))
    best = state.get("best")
    G.load_state_dict(best["generator_ema"] if best else state["generator_ema"])
    return G.eval(), state
