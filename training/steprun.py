"""A run counted in generator steps, with checkpoints: the bookkeeping CycleGAN and StackGAN share.

The GAN variants count epochs and have their own Trainer; these two systems draw random batches for a
fixed number of steps. A subclass builds its networks, names them in `saved`, supplies one step at a
time to `run_steps` and exports its graphs (`export`, returning the manifest's own fields); this base saves,
resumes, logs the losses (TensorBoard too), checkpoints and writes the manifest's shared fields.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from .board import Board
from .checkpoint import library_versions
from .export import OPSET, write_manifest
from .figures import save_loss_curves

log = logging.getLogger(__name__)


def same_run(saved: dict, wanted: dict) -> bool:
    """Whether a checkpoint may be resumed under `wanted`: every setting but the step budget agrees."""
    return {k: v for k, v in saved.items() if k != "steps"} == {k: v for k, v in wanted.items() if k != "steps"}


class StepRun:
    """`cfg` is a dataclass with `name`, `steps` and `checkpoint_every`; `saved` names the attributes (modules and
    optimisers) whose state_dict goes into the checkpoint."""

    saved: tuple[str, ...] = ()
    config: type  # the dataclass of `cfg`
    kind: str  # the manifest's kind: what the service serves it as
    epoch_images: int  # training images in one epoch, for the manifest's epoch count

    def __init__(self, cfg: Any, run_dir: Path) -> None:
        self.cfg, self.run_dir = cfg, run_dir
        self.step, self.elapsed = 0, 0.0
        self.history: list[dict[str, float]] = []
        self.metrics: dict[str, float] = {}

    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / "checkpoint.pt"

    def extra_state(self) -> dict:
        """What a subclass saves besides the state_dicts of `saved`."""
        return {}

    def load_extra(self, state: dict) -> None:
        """Restore what `extra_state` saved."""

    def save(self) -> None:
        """Save atomically (a killed run never leaves half a checkpoint), with the RNG state and library versions."""
        state = {key: getattr(self, key).state_dict() for key in self.saved} | self.extra_state()
        state |= {
            "config": asdict(self.cfg),
            "step": self.step,
            "elapsed": self.elapsed,
            "history": self.history,
            "metrics": self.metrics,
            "rng": torch.get_rng_state(),
            "versions": library_versions(),
        }
        self.checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.checkpoint_path)

    def resume(self) -> bool:
        """Continue from the run folder's checkpoint, if there is one; ValueError if another configuration wrote it."""
        if not self.checkpoint_path.exists():
            return False
        state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        if not same_run(state["config"], asdict(self.cfg)):
            raise ValueError(f"{self.checkpoint_path} was trained with another configuration; use --fresh")
        for key in self.saved:
            getattr(self, key).load_state_dict(state[key])
        self.load_extra(state)
        self.step, self.elapsed, self.history = state["step"], state["elapsed"], state["history"]
        self.metrics = state.get("metrics", {})
        torch.set_rng_state(state["rng"])
        log.info("resumed %s at step %d", self.cfg.name, self.step)
        return True

    def run_steps(self, train_step: Callable[[], dict[str, float]]) -> None:
        """Call `train_step` until `cfg.steps`, with a progress bar, a loss point every 50 steps and checkpoints."""
        cfg = self.cfg
        bar = tqdm(range(self.step, cfg.steps), desc=cfg.name, initial=self.step, total=cfg.steps)
        board = Board(self.run_dir, self.step)
        started = time.perf_counter() - self.elapsed
        for _ in bar:
            losses = train_step()
            self.step += 1
            if self.step % 50 == 0:
                self.history.append({"step": self.step, **losses})
                board.scalars(self.step, losses)
                bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()})
            if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                self.elapsed = time.perf_counter() - started
                self.save()
        board.close()

    def fit(self, data_dir: Path) -> None:
        raise NotImplementedError

    @staticmethod
    def export(checkpoint: Path, data_dir: Path, folder: Path) -> tuple[dict, dict]:
        """Write the graphs, banks and samples.png into `folder`; return the manifest's own fields and metrics."""
        raise NotImplementedError

    @classmethod
    def export_run(cls, checkpoint: Path, data_dir: Path, out_dir: Path) -> dict:
        """Checkpoint → out_dir/<name>/ with its manifest and loss curves (losses.png)."""
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        cfg = cls.config(**state["config"])
        folder = out_dir / cfg.name
        folder.mkdir(parents=True, exist_ok=True)
        fields, metrics = cls.export(checkpoint, data_dir, folder)
        extra = fields.pop("training", {})
        training = {
            "steps": state["step"],
            "epochs": round(state["step"] * cfg.batch_size / cls.epoch_images, 3),
            "batch_size": cfg.batch_size,
            "seed": cfg.seed,
            "wall_time_s": round(state["elapsed"], 1),
            "versions": state["versions"],
            "config": state["config"],
        }
        manifest = {"name": cfg.name, "kind": cls.kind, "variant": cls.__name__.lower(), **fields, "opset": OPSET}
        manifest |= {"training": training | extra, "metrics": metrics}
        write_manifest(folder, manifest)
        save_loss_curves(state["history"], folder / "losses.png", cfg.name)
        log.info("exported %s: %s", cfg.name, json.dumps(metrics))
        return manifest

    @classmethod
    def train_and_export(
        cls, data_dir: Path, runs_dir: Path, models_dir: Path, overrides: dict, fresh: bool = False
    ) -> dict:
        """The CLI's command: train (resuming unless `fresh`), plot the losses in the run folder, export."""
        cfg = cls.config(**overrides)
        run = cls(cfg, runs_dir / cfg.name)
        if not fresh:
            run.resume()
        run.fit(data_dir)
        save_loss_curves(run.history, run.run_dir / "losses.png", cfg.name)
        return cls.export_run(run.checkpoint_path, data_dir, models_dir)
