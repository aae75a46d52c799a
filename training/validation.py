"""Validation FID during training: what picks the checkpoint, so the test split stays for the reported figures.

The averaged generator is measured as it would be exported (batch norm re-estimated) on a fixed set of inputs,
in the evaluation classifier's feature space, against the held-out validation images (data.VALIDATION_IMAGES).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from .classifier import classify, load_classifier, real_features
from .config import DEFAULT_CALIBRATION_BATCHES
from .data import DEFAULT_CACHE, load_split
from .export import onnx_inputs, recalibrate_batchnorm, spread_conditions
from .metrics import frechet_distance, moments
from .models import Generator

# (data folder, dataset) → moments of the validation images' features. The datasets with a classifier are fixed
# files, so every run in a process (the tests build dozens) shares one pass of the classifier over them.
_REFERENCES: dict[tuple[Path, str], tuple[np.ndarray, np.ndarray]] = {}


class Validator:
    def __init__(
        self,
        data_dir: Path,
        dataset: str,
        samples: int,
        cache_dir: Path = DEFAULT_CACHE,
        calibration_batches: int = DEFAULT_CALIBRATION_BATCHES,
    ) -> None:
        with torch.random.fork_rng(devices=[]):  # building the classifier draws initial weights: not the run's
            self.classifier = load_classifier(dataset)
        key = (Path(data_dir).resolve(), dataset)
        if key not in _REFERENCES:
            images, _ = load_split(data_dir, dataset, "val", cache_dir)
            _REFERENCES[key] = moments(real_features(dataset, images)["features"])
        self.reference = _REFERENCES[key]
        self.samples, self.calibration_batches = samples, calibration_batches

    @torch.no_grad()
    def __call__(self, g_ema: Generator) -> tuple[float, np.ndarray, dict[str, torch.Tensor]]:
        """Validation FID of a copy of `g_ema` (left untouched), its first 64 images for a grid, and the copy's
        weights: batch norm re-estimated as export does it, so export can take them as they are."""
        g = copy.deepcopy(g_ema).cpu()
        recalibrate_batchnorm(g, self.calibration_batches)
        inputs = onnx_inputs(g, self.samples, seed=2024)
        inputs |= spread_conditions(self.samples, g.cfg.num_classes if g.cfg.conditional else None, g.cfg.n_cat)
        images = torch.cat(
            [g(**{k: torch.from_numpy(v[s : s + 500]) for k, v in inputs.items()}) for s in range(0, self.samples, 500)]
        )
        features, _ = classify(self.classifier, images)
        return frechet_distance(*moments(features), *self.reference), images[:64].numpy(), g.state_dict()
