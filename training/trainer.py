"""One training loop for every variant, with checkpoints that describe themselves.

A step is one generator update after `n_critic` discriminator updates; each discriminator update eats one
real batch, so an epoch is one pass of the real data whatever the variant.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from . import augment, distributed, losses
from .board import Board
from .checkpoint import library_versions
from .config import TrainConfig
from .data import DATASETS, labelled_subset, load_split, shuffled_batches, to_tensor
from .diffaugment import diff_augment
from .models import Discriminator, Generator
from .validation import Validator
from .variants import VARIANTS, Variant

log = logging.getLogger(__name__)


def init_weights(m: nn.Module) -> None:
    """DCGAN's N(0, 0.02) initialisation for convolutions and linear layers, N(1, 0.02) for norms."""
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear | nn.Embedding):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Trainer:
    def __init__(self, cfg: TrainConfig, variant: Variant | None = None) -> None:
        self.cfg = cfg
        self.variant = variant or VARIANTS[cfg.variant]
        self.variant.validate()
        self.data = info = cfg.dataset_info()
        images, labels = load_split(Path(cfg.data_dir), info, "fit", cfg.cache_dir, cfg.skip_bad)
        if cfg.limit:
            images, labels = images[: cfg.limit], labels[: cfg.limit]
        self.rank, self.world, device = distributed.setup(cfg.device)
        self.device = torch.device(device)
        self.images = to_tensor(images).to(self.device)
        self.labels = torch.from_numpy(labels).to(self.device)
        self.model_config = self.variant.model_config(len(info.class_names), info.channels, info.height)
        torch.manual_seed(cfg.seed)
        self.G = Generator(self.model_config).to(self.device)
        self.D = Discriminator(self.model_config).to(self.device)
        self.G.apply(init_weights)
        self.D.apply(init_weights)
        # Averaged weights give steadier samples than the last step's (Yazıcı 2019); this is what we export.
        self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        # The networks as the steps call them: wrapped for gradient averaging under torchrun.
        self.g_net, self.d_net = distributed.wrap(self.G, self.world), distributed.wrap(self.D, self.world)
        if self.world > 1:
            torch.manual_seed(cfg.seed + 1000 * self.rank)  # same initial weights, different noise per rank
        v = self.variant
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=v.lr_g, betas=v.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=v.lr_d, betas=v.betas)
        self.labelled = (
            torch.from_numpy(labelled_subset(labels, v.labels_per_class, cfg.seed)).to(self.device)
            if v.labels_per_class
            else None
        )
        self.averages: dict[str, list[torch.Tensor]] = {
            name: [p.detach().clone() for p in net.parameters()] for name, net in (("g", self.G), ("d", self.D))
        }
        self.step = 0  # generator steps
        self.iteration = 0  # discriminator steps = real batches seen
        self.elapsed = 0.0  # seconds of training, summed over sittings
        self.history: list[dict[str, float]] = []
        self.metrics: dict[str, float] = {}
        self.validation: list[dict[str, float]] = []  # {epoch, step, fid} after each epoch
        self.best: dict | None = None  # the averaged weights of the lowest validation FID so far, and when
        self.validator: Validator | None = None
        if cfg.val_samples and self.rank == 0 and cfg.dataset not in DATASETS:
            log.info("%s: no evaluation classifier for a folder of one's own: no validation FID", cfg.model)
        elif cfg.val_samples and self.rank == 0:
            self.validator = Validator(
                Path(cfg.data_dir), cfg.dataset, cfg.val_samples, cfg.cache_dir, cfg.calibration_batches
            )

    # --- one step of each player -------------------------------------------------------------

    def sample_inputs(self, n: int) -> dict[str, torch.Tensor]:
        """Noise plus whatever the generator is conditioned on, drawn uniformly."""
        cfg = self.model_config
        inputs = {"z": torch.randn(n, cfg.latent_dim, device=self.device)}
        if self.variant.conditional:
            inputs["label"] = torch.randint(cfg.num_classes, (n,), device=self.device)
        if cfg.n_cat:
            inputs["c_cat"] = torch.randint(cfg.n_cat, (n,), device=self.device)
            inputs["c_cont"] = (torch.rand(n, cfg.n_cont, device=self.device) * 2 - 1) * self.active_codes()
        return inputs

    def active_codes(self) -> torch.Tensor:
        """1 for each continuous code drawn by now, 0 for one still held at 0 (the variant's code_stagger_epochs)."""
        epoch = self.epochs_done
        k = torch.arange(self.model_config.n_cont, device=self.device)
        return (k * self.variant.code_stagger_epochs <= epoch).float()

    def discriminate(self, x: torch.Tensor, label: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """D's outputs on `x` as D sees every image: through the variant's DiffAugment policy, if any."""
        return self.d_net(diff_augment(x, self.variant.diff_augment), label)

    def head_terms(
        self, out: dict[str, torch.Tensor], inputs: dict[str, torch.Tensor], fake: torch.Tensor
    ) -> torch.Tensor:
        """The auxiliary terms on fake samples shared by both players: ACGAN's class, InfoGAN's codes."""
        v, term = self.variant, torch.zeros((), device=self.device)
        if v.d_head == "aux":
            term = term + v.aux_weight * losses.class_loss(out["class_logits"], inputs["label"])
        if v.codes:
            q_cat = self.discriminate(augment.restyle(fake))["q_cat"] if v.q_restyle else out["q_cat"]
            q_cont = out["q_cont"]
            if v.q_parity and self.epochs_done >= v.q_parity_epoch:
                q_cont = augment.parity_reading(lambda x: self.discriminate(x)["q_cont"], fake, q_cont, v.q_parity)
            term = term + v.info_weight * losses.info_loss(
                q_cat, q_cont, inputs["c_cat"], inputs["c_cont"], v.cont_weight, out.get("q_log_std")
            )
        return term

    def historical_term(self, key: str, net: nn.Module) -> torch.Tensor:
        averages = self.averages[key]
        with torch.no_grad():
            for p, a in zip(net.parameters(), averages, strict=True):
                a.lerp_(p, 1.0 / (self.step + 1))
        return self.variant.historical_weight * losses.historical_average(net.parameters(), averages)

    def d_step(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        v, pair = self.variant, losses.LOSSES[self.variant.loss]
        inputs = self.sample_inputs(real.shape[0])
        with torch.no_grad():
            fake = self.g_net(**inputs)
        fake_label = inputs.get("label")
        out_real = self.discriminate(real, labels if v.conditional else None)
        out_fake = self.discriminate(fake, fake_label)
        loss = pair.d(out_real["adv"], out_fake["adv"], v.real_target)
        logs = {"d_adv": loss.item()}
        if v.gp_weight:
            gp = losses.gradient_penalty(lambda x: self.discriminate(x, fake_label)["adv"], real, fake)
            loss = loss + v.gp_weight * gp
            logs["gp"] = gp.item()
        if v.d_head == "aux":
            loss = loss + v.aux_weight * losses.class_loss(out_real["class_logits"], labels)
        if v.d_head == "sgan":
            # Supervised term on the few labelled examples, or on the real batch when every label is known.
            if self.labelled is not None:
                pick = self.labelled_batch(real.shape[0])
                logits, targets = self.discriminate(self.images[pick])["class_logits"], self.labels[pick]
            else:
                logits, targets = out_real["class_logits"], labels
            sup = losses.class_loss(logits, targets)
            loss = loss + sup
            logs["d_class"] = sup.item()
        loss = loss + self.head_terms(out_fake, inputs, fake)
        if v.historical_weight:
            loss = loss + self.historical_term("d", self.D)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if v.clip:
            with torch.no_grad():
                for p in self.D.parameters():
                    p.clamp_(-v.clip, v.clip)
        return logs

    def labelled_batch(self, n: int) -> torch.Tensor:
        assert self.labelled is not None
        return self.labelled[torch.randint(len(self.labelled), (n,), device=self.device)]

    def g_step(self, real: torch.Tensor) -> dict[str, float]:
        v, pair = self.variant, losses.LOSSES[self.variant.loss]
        inputs = self.sample_inputs(real.shape[0])
        fake = self.g_net(**inputs)
        out = self.discriminate(fake, inputs.get("label"))
        if v.feature_matching:
            with torch.no_grad():
                real_features = self.discriminate(real, None)["features"]
            loss = losses.feature_matching(real_features, out["features"])
        else:
            loss = pair.g(out["adv"])
        logs = {"g_adv": loss.item()}
        extra = self.head_terms(out, inputs, fake)
        if v.d_head == "aux" or v.codes:
            logs["g_head"] = extra.item()
        loss = loss + extra
        if v.historical_weight:
            loss = loss + self.historical_term("g", self.G)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.update_ema()
        return logs

    @torch.no_grad()
    def update_ema(self) -> None:
        decay = min(self.cfg.ema_decay, (1 + self.step) / (10 + self.step))  # short memory while G moves fast
        for e, p in zip(self.G_ema.parameters(), self.G.parameters(), strict=True):
            e.lerp_(p, 1 - decay)

    # --- the loop ---------------------------------------------------------------------------

    @property
    def epochs_done(self) -> float:
        """Epochs trained so far, a fraction between checkpoints: what the schedules by epoch compare with."""
        return self.iteration / self.batches_per_epoch()

    def batches_per_epoch(self) -> int:
        return len(self.images) // self.world // self.cfg.batch_size

    def fit(self) -> None:
        cfg, per_epoch = self.cfg, self.batches_per_epoch()
        total = cfg.epochs * per_epoch
        if cfg.max_steps is not None:
            total = min(total, cfg.max_steps * self.variant.n_critic)
        self.G.train()
        self.D.train()
        bar = tqdm(
            total=total,
            initial=self.iteration,
            desc=cfg.model,
            unit="batch",
            dynamic_ncols=True,
            disable=self.rank != 0,
        )
        window: dict[str, list[float]] = {}
        board = Board(cfg.run_dir, self.step, cfg.tensorboard and self.rank == 0)
        started = time.perf_counter()
        while self.iteration < total:
            epoch, skip = divmod(self.iteration, per_epoch)
            order = shuffled_batches(len(self.images), cfg.batch_size, cfg.seed, epoch, self.rank, self.world)
            for i, idx in enumerate(order):
                if i < skip:
                    continue  # resumed mid-epoch: these batches were seen before the checkpoint
                if self.iteration >= total:
                    break
                self.set_learning_rates()
                pick = torch.from_numpy(idx).to(self.device)
                real, labels = self.images[pick], self.labels[pick]
                logs = self.d_step(real, labels)
                self.iteration += 1
                if self.iteration % self.variant.n_critic == 0:
                    logs |= self.g_step(real)
                    self.step += 1
                for k, val in logs.items():
                    window.setdefault(k, []).append(val)
                if self.step and self.step % cfg.log_every == 0 and "g_adv" in logs:
                    point = {k: float(np.mean(vals)) for k, vals in window.items()}
                    self.history.append({"step": self.step, "epoch": self.iteration / per_epoch} | point)
                    board.scalars(self.step, point)
                    bar.set_postfix({k: f"{val:.3f}" for k, val in point.items()})
                    window.clear()
                if self.iteration % per_epoch == 0 or self.iteration == total:
                    self.validate(board)  # then checkpoint: a run stopped later still holds this epoch's weights
                    self.save(self.elapsed + time.perf_counter() - started)
                elif self.iteration % cfg.checkpoint_every == 0:
                    self.save(self.elapsed + time.perf_counter() - started)
                bar.update(1)
        bar.close()
        board.close()
        self.elapsed += time.perf_counter() - started
        if self.world > 1:
            log.info("rank %d of %d: weights sha256 %s", self.rank, self.world, distributed.fingerprint(self.G))
            if not distributed.ranks_agree(self.G, self.world):
                raise RuntimeError("data-parallel ranks ended with different generator weights")
        if self.variant.d_head == "sgan":
            self.metrics["sgan_test_accuracy"] = self.classify_test_split()
        self.save(self.elapsed)

    def set_learning_rates(self) -> None:
        """The declared rates, scaled down linearly to zero over the last `decay_epochs` of `epochs`: a function
        of the iteration alone, so a resumed run (or one stopped early by `max_steps`) follows the same schedule."""
        per_epoch = self.batches_per_epoch()
        ramp = self.cfg.decay_epochs * per_epoch
        scale = min(1.0, (self.cfg.epochs * per_epoch - self.iteration) / ramp) if ramp else 1.0
        for opt, lr in ((self.opt_g, self.variant.lr_g), (self.opt_d, self.variant.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * scale

    def validate(self, board: Board) -> None:
        """Validation FID of the averaged generator; keep its weights if it is the best yet. Draws nothing from
        torch's RNG, so a run with validation trains exactly as one without."""
        if self.validator is None:
            return
        fid, images, calibrated = self.validator(self.G_ema)
        epoch = round(self.epochs_done, 3)
        self.validation.append({"epoch": epoch, "step": self.step, "fid": fid})
        board.scalars(self.step, {"fid": fid}, prefix="validation")
        board.images(self.step, images)
        if self.best is None or fid < self.best["fid"]:
            # batch norm as export re-estimates it (the same seeded batches), so export need not do it again
            self.best = {"epoch": epoch, "step": self.step, "fid": fid, "generator_ema": calibrated, "calibrated": True}
        log.info(
            "%s: validation FID %.1f at epoch %g (best %.1f at %g)",
            self.cfg.model,
            fid,
            epoch,
            self.best["fid"],
            self.best["epoch"],
        )

    @torch.no_grad()
    def classify_test_split(self) -> float:
        """SGAN: the discriminator as a classifier on the test split (Salimans 2016 §5); a run on the first `limit`
        training images (a smoke run) reads as many test images."""
        images, labels = load_split(Path(self.cfg.data_dir), self.data, "test", self.cfg.cache_dir)
        images, labels = images[: self.cfg.limit], labels[: self.cfg.limit]
        self.D.eval()
        correct = 0
        for start in range(0, len(images), 1000):
            x = to_tensor(images[start : start + 1000]).to(self.device)
            pred = self.D(x)["class_logits"].argmax(1).cpu().numpy()
            correct += int((pred == labels[start : start + 1000]).sum())
        self.D.train()
        return correct / len(images)

    # --- checkpoints: the only place a Trainer reads or writes one ----------------------------

    @property
    def checkpoint_path(self) -> Path:
        return self.cfg.run_dir / "checkpoint.pt"

    def save(self, elapsed: float) -> None:
        if self.rank != 0:
            return  # ranks hold the same weights; one writes them
        self.cfg.run_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "train_config": asdict(self.cfg),
            "variant": asdict(self.variant),
            "model_config": asdict(self.model_config),
            "dataset_info": asdict(self.data),
            "generator": self.G.state_dict(),
            "generator_ema": self.G_ema.state_dict(),
            "discriminator": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "averages": self.averages,
            "step": self.step,
            "iteration": self.iteration,
            "epochs": self.epochs_done,
            "elapsed": elapsed,
            "world_size": self.world,
            "history": self.history,
            "metrics": self.metrics,
            "validation": self.validation,
            "best": self.best,
            "rng": torch.get_rng_state(),
            "versions": library_versions(),
        }
        tmp = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.checkpoint_path)  # atomic: a killed run never leaves half a checkpoint

    def resume(self) -> bool:
        """Continue from the run folder's checkpoint, if there is one."""
        if not self.checkpoint_path.exists():
            return False
        state = torch.load(self.checkpoint_path, map_location=self.device, weights_only=False)
        if changes := self.variant.changes_from(state["variant"]):
            raise ValueError(f"{self.checkpoint_path} was trained with another variant configuration: {changes}")
        self.G.load_state_dict(state["generator"])
        self.G_ema.load_state_dict(state["generator_ema"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.averages = state["averages"]
        self.step, self.iteration, self.elapsed = state["step"], state["iteration"], state["elapsed"]
        self.history, self.metrics = state["history"], state["metrics"]
        self.validation, self.best = state.get("validation", []), state.get("best")
        torch.set_rng_state(state["rng"])
        log.info("resumed %s at iteration %d", self.cfg.model, self.iteration)
        return True
