"""CycleGAN (Zhu 2017) between MNIST and a stroke-thickened MNIST: nets, training loop, export.

Domain A is MNIST; domain B is MNIST after a 3×3 grey dilation. The two training sets are disjoint
halves of the train split, so the pairs are never seen. Because B is a known function of A, the test
split also gives a paired check (`a2b_l1_to_dilation`) that a plain CycleGAN benchmark lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from service.manifest import file_sha256

from .classifier import classify, load_classifier
from .data import load_split, to_tensor
from .export import PARITY_INPUTS, check_module_parity, export_module
from .figures import save_grid
from .losses import LOSSES
from .steprun import StepRun

DIRECTIONS = ("a2b", "b2a")
DOMAINS = {"a": "mnist", "b": "mnist-thick"}
EPOCH_IMAGES = 30_000  # each domain is half of MNIST's training split


@dataclass(frozen=True)
class CycleConfig:
    name: str = "mnist-cyclegan"
    dataset: str = "mnist"  # domain A; domain B is its dilation
    width: int = 24  # channels of the first conv; the 14×14 trunk has twice as many
    res_blocks: int = 2  # residual blocks at 14×14
    steps: int = 1400  # generator steps (the committed model: 1000, then resumed to 1400)
    batch_size: int = 32
    lr: float = 2e-4  # Adam(0.5, 0.999) as in the paper
    loss: str = "least_squares"  # a key of losses.LOSSES; the paper uses least squares
    lambda_cycle: float = 10.0
    lambda_identity: float = 5.0  # paper: 0.5 × lambda_cycle; keeps a domain-B input unchanged by G
    seed: int = 0
    limit: int | None = None  # train on the first N images of each domain only
    bank_size: int = 256  # test-split source images shipped for "seed" mode
    checkpoint_every: int = 250


def thicken(x: torch.Tensor) -> torch.Tensor:
    """Domain B: grey dilation with a 3×3 square (a max filter), images in [-1, 1]."""
    return F.max_pool2d(x, 3, stride=1, padding=1)


class ResBlock(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=1),
            nn.InstanceNorm2d(ch, affine=True),
            nn.ReLU(),
            nn.Conv2d(ch, ch, 3, padding=1),
            nn.InstanceNorm2d(ch, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Translator(nn.Module):
    """The paper's ResNet generator scaled to 28×28: c7s1-w, d2w, R2w × n, u w, c7s1-1. (N,1,28,28) → same."""

    def __init__(self, width: int, res_blocks: int) -> None:
        super().__init__()

        def norm_relu(ch: int) -> list[nn.Module]:
            return [nn.InstanceNorm2d(ch, affine=True), nn.ReLU()]

        self.net = nn.Sequential(
            nn.Conv2d(1, width, 7, padding=3),
            *norm_relu(width),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),  # 14×14
            *norm_relu(2 * width),
            *[ResBlock(2 * width) for _ in range(res_blocks)],
            nn.ConvTranspose2d(2 * width, width, 3, stride=2, padding=1, output_padding=1),  # 28×28
            *norm_relu(width),
            nn.Conv2d(width, 1, 7, padding=3),
            nn.Tanh(),
        )

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        return self.net(source)


class PatchDiscriminator(nn.Module):
    """PatchGAN: one real/fake logit per overlapping patch. (N,1,28,28) → (N,1,7,7)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.InstanceNorm2d(2 * width, affine=True),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def domains(data_dir: Path, split: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Unpaired domain images in [-1, 1]: A from the even-indexed images, B (thickened) from the odd ones."""
    x, _ = load_split(data_dir, "mnist", split)
    a, b = to_tensor(x[0::2][:limit]), to_tensor(x[1::2][:limit])
    return a, thicken(b)


class CycleGAN(StepRun):
    """Two translators (G: A→B, F: B→A), two discriminators and their optimisers."""

    saved = ("nets", "opt_g", "opt_d")
    config, kind, epoch_images = CycleConfig, "translator", EPOCH_IMAGES

    def __init__(self, cfg: CycleConfig, run_dir: Path) -> None:
        super().__init__(cfg, run_dir)
        torch.manual_seed(cfg.seed)
        self.nets = nn.ModuleDict(
            {
                "a2b": Translator(cfg.width, cfg.res_blocks),
                "b2a": Translator(cfg.width, cfg.res_blocks),
                "d_a": PatchDiscriminator(cfg.width),
                "d_b": PatchDiscriminator(cfg.width),
            }
        )
        g_params = [*self.nets["a2b"].parameters(), *self.nets["b2a"].parameters()]
        d_params = [*self.nets["d_a"].parameters(), *self.nets["d_b"].parameters()]
        self.opt_g = torch.optim.Adam(g_params, cfg.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(d_params, cfg.lr, betas=(0.5, 0.999))

    def train_step(self, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
        """One generator update of both directions, then one update of both discriminators."""
        cfg, n = self.cfg, self.nets
        d_loss, g_loss = LOSSES[cfg.loss]
        fake_b, fake_a = n["a2b"](a), n["b2a"](b)
        adv = g_loss(n["d_b"](fake_b)) + g_loss(n["d_a"](fake_a))
        cycle = (n["b2a"](fake_b) - a).abs().mean() + (n["a2b"](fake_a) - b).abs().mean()
        identity = (n["a2b"](b) - b).abs().mean() + (n["b2a"](a) - a).abs().mean()
        loss_g = adv + cfg.lambda_cycle * cycle + cfg.lambda_identity * identity
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        loss_d = d_loss(n["d_b"](b), n["d_b"](fake_b.detach())) + d_loss(n["d_a"](a), n["d_a"](fake_a.detach()))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {"g_adv": adv.item(), "cycle": cycle.item(), "identity": identity.item(), "d": loss_d.item()}

    def fit(self, data_dir: Path) -> None:
        cfg = self.cfg
        a, b = domains(data_dir, "train", cfg.limit)
        rng = np.random.default_rng(cfg.seed)
        for _ in range(self.step):  # the index stream continues where a resumed run stopped
            rng.integers(len(a), size=cfg.batch_size), rng.integers(len(b), size=cfg.batch_size)
        self.nets.train()

        def step() -> dict[str, float]:
            ia, ib = rng.integers(len(a), size=cfg.batch_size), rng.integers(len(b), size=cfg.batch_size)
            return self.train_step(a[ia], b[ib])

        self.run_steps(step)
        self.nets.eval()

    @staticmethod
    def export(checkpoint: Path, data_dir: Path, folder: Path) -> tuple[dict, dict]:
        """Checkpoint → folder/{a2b.onnx, b2a.onnx, bank_a.npy, bank_b.npy, samples.png}; the manifest's fields."""
        nets, state = load(checkpoint)
        cfg = CycleConfig(**state["config"])
        test_a, test_b = domains(data_dir, "test", cfg.bank_size)
        banks = {"a": test_a, "b": test_b}
        rng = np.random.default_rng(1)
        parity_inputs = {"source": rng.uniform(-1, 1, (PARITY_INPUTS, 1, 28, 28)).astype(np.float32)}
        directions = {}
        for d in DIRECTIONS:
            src, dst = d[0], d[2]
            path = folder / f"{d}.onnx"
            export_module(nets[d].eval(), {"source": parity_inputs["source"][:2]}, path)
            parity = max(
                check_module_parity(nets[d], path, parity_inputs),
                check_module_parity(nets[d], path, {"source": banks[src][:PARITY_INPUTS].numpy()}),
            )
            bank_path = folder / f"bank_{src}.npy"
            np.save(bank_path, np.rint((banks[src].numpy()[:, 0] + 1) * 127.5).astype(np.uint8))
            directions[d] = {
                "source": DOMAINS[src],
                "target": DOMAINS[dst],
                "file": path.name,
                "sha256": file_sha256(path),
                "bank": bank_path.name,
                "bank_sha256": file_sha256(bank_path),
                "parity_max_abs_diff": parity,
            }
        with torch.no_grad():  # rows: A, G(A), F(G(A)), B, F(B), G(F(B)); eight examples each
            a, b = test_a[:8], test_b[:8]
            rows = [a, nets["a2b"](a), nets["b2a"](nets["a2b"](a)), b, nets["b2a"](b), nets["a2b"](nets["b2a"](b))]
        save_grid(torch.cat(rows).numpy(), 8, folder / "samples.png")
        fields = {
            "dataset": cfg.dataset,
            "domains": DOMAINS,
            "directions": directions,
            "image": {"channels": 1, "height": 28, "width": 28},
            "inputs": [{"name": "source", "dtype": "float32", "shape": ["N", 1, 28, 28]}],
            "outputs": [{"name": "image", "dtype": "float32", "shape": ["N", 1, 28, 28]}],
        }
        return fields, cycle_metrics(nets, data_dir)


@torch.no_grad()
def cycle_metrics(nets: nn.ModuleDict, data_dir: Path, limit: int | None = 2000) -> dict[str, float]:
    """Cycle reconstruction error (mean |x - F(G(x))| in [0, 1] pixel units) on the test split, both ways.

    Also the paired error of A→B against the true dilation, and how often the MNIST classifier's digit
    survives the round trip (if the evaluation classifier is there).
    """
    a, b = domains(data_dir, "test", limit)
    fake_b, fake_a = nets["a2b"](a), nets["b2a"](b)
    rec_a, rec_b = nets["b2a"](fake_b), nets["a2b"](fake_a)
    out = {
        "cycle_l1_a": float((rec_a - a).abs().mean() / 2),
        "cycle_l1_b": float((rec_b - b).abs().mean() / 2),
        "a2b_l1_to_dilation": float((fake_b - thicken(a)).abs().mean() / 2),
        "identity_l1_a2b_on_b": float((nets["a2b"](b) - b).abs().mean() / 2),
        "test_images": float(len(a)),
    }
    try:
        clf = load_classifier("mnist")
    except ValueError:
        return out
    _, pa = classify(clf, a)
    _, pfb = classify(clf, fake_b)
    _, pb = classify(clf, b)
    _, pfa = classify(clf, fake_a)
    out["digit_kept_a2b"] = float((pa == pfb).mean())
    out["digit_kept_b2a"] = float((pb == pfa).mean())
    return out


def load(checkpoint: Path) -> tuple[nn.ModuleDict, dict]:
    """Rebuild the four nets from a checkpoint alone, in eval mode."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    cfg = CycleConfig(**state["config"])
    model = CycleGAN(cfg, checkpoint.parent)
    model.nets.load_state_dict(state["nets"])
    return model.nets.eval(), state
