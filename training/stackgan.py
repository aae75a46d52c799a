"""StackGAN (Zhang 2017) on MNIST captions: text encoder, conditioning augmentation, two stages, export.

Captions come from `captions.py` (class word + measured attribute terciles). The text encoder is a mean
of word embeddings and an MLP, trained jointly with the GAN (word order carries nothing in these
captions). Conditioning augmentation turns the text embedding into μ, σ and samples c = μ + σ·ε with a
KL term. Stage-I draws 14×14 from (z, c); Stage-II refines the Stage-I image to 28×28 given c again.
Both discriminators have auxiliary heads for the class and each attribute level (AC-GAN style), which
is what makes a caption's words bind to the picture within a few minutes of CPU training.
The export is one ONNX graph: tokens int64 [N, T], z float32 [N, z_dim], eps float32 [N, c_dim] →
image [N, 1, 28, 28] (+ stage1 [N, 1, 14, 14]).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from service.manifest import file_sha256

from . import captions as cap
from .classifier import classify, load_classifier
from .data import load_split, to_tensor
from .export import PARITY_INPUTS, check_module_parity, export_module
from .figures import save_grid
from .losses import LOSSES, class_loss
from .steprun import StepRun

N_LEVELS = 3
OUTPUTS = ("image", "stage1")
EPOCH_IMAGES = 60_000


@dataclass(frozen=True)
class StackConfig:
    name: str = "mnist-stackgan"
    embed_dim: int = 32  # word embeddings and text embedding
    c_dim: int = 16  # conditioning-augmentation code
    z_dim: int = 32
    width: int = 32  # channels of the widest generator layer at 7×7 / 14×14
    steps: int = 3000  # generator steps (the committed model: 1500, then resumed to 3000)
    batch_size: int = 64
    lr: float = 2e-4
    loss: str = "vanilla"  # a key of losses.LOSSES
    kl_weight: float = 0.05  # λ of the CA KL term; at StackGAN's 1-2 it squeezed the 10 classes out of c here
    aux_weight: float = 1.0  # auxiliary class/attribute cross-entropy, for both players
    drop_word: float = 0.25  # probability that an attribute word is left out of a training caption
    seed: int = 0
    limit: int | None = None  # train on the first N images only
    checkpoint_every: int = 250


class TextEncoder(nn.Module):
    """Mean of the non-pad word embeddings, then an MLP. tokens (N, T) int64 → (N, embed_dim)."""

    def __init__(self, vocab: int, dim: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=cap.PAD)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.LeakyReLU(0.2), nn.Linear(dim, dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        mask = (tokens != cap.PAD).float().unsqueeze(-1)
        words = self.embed(tokens) * mask
        # Token by token, not .sum(1): ONNX Runtime's ReduceSum orders its additions by batch size, which made
        # a caption's image depend (in the last bits) on the batch it was drawn in.
        total, count = words[:, 0], mask[:, 0]
        for t in range(1, tokens.shape[1]):
            total, count = total + words[:, t], count + mask[:, t]
        return self.mlp(total / count.clamp(min=1.0))


class ConditioningAugmentation(nn.Module):
    """Text embedding → μ, log σ²; c = μ + σ·ε (StackGAN §3.1). Returns c, μ, log σ²."""

    def __init__(self, embed_dim: int, c_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(embed_dim, 2 * c_dim)

    def forward(self, e: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = F.leaky_relu(self.fc(e), 0.2).chunk(2, dim=1)
        return mu + torch.exp(0.5 * logvar) * eps, mu, logvar


def kl_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)), mean over the batch."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()


def up(cin: int, cout: int) -> nn.Sequential:
    """DCGAN's doubling step: transposed conv, batch norm, ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class StageI(nn.Module):
    """(z, c) → (N, 1, 14, 14): fc to 2w × 7 × 7, one doubling (DCGAN-style)."""

    def __init__(self, z_dim: int, c_dim: int, width: int) -> None:
        super().__init__()
        self.width = width
        self.fc = nn.Sequential(nn.Linear(z_dim + c_dim, 2 * width * 49), nn.BatchNorm1d(2 * width * 49), nn.ReLU())
        self.up = up(2 * width, width)
        self.out = nn.Sequential(nn.Conv2d(width, 1, 3, padding=1), nn.Tanh())

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.fc(torch.cat([z, c], 1)).view(-1, 2 * self.width, 7, 7)
        return self.out(self.up(h))


class StageII(nn.Module):
    """(Stage-I image, c) → (N, 1, 28, 28): encode at 14×14, join c spatially, residual block, one doubling."""

    def __init__(self, c_dim: int, width: int) -> None:
        super().__init__()
        self.encode = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU())
        self.join = nn.Sequential(nn.Conv2d(width + c_dim, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.res = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width),
        )
        self.up = up(width, width // 2)
        self.out = nn.Sequential(nn.Conv2d(width // 2, 1, 3, padding=1), nn.Tanh())

    def forward(self, low: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.encode(low)
        h = self.join(torch.cat([h, c[:, :, None, None].expand(-1, -1, low.shape[2], low.shape[3])], 1))
        h = F.relu(h + self.res(h))
        return self.out(self.up(h))


class Discriminator(nn.Module):
    """DCGAN conv net → {"adv": (N,), "cls": (N, 10), "attrs": (N, 3 attributes, 3 levels)}; text-matched via c."""

    def __init__(self, size: int, c_dim: int, width: int) -> None:
        super().__init__()
        second = (
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)  # 28 → 14 → 7
            if size == 28
            else nn.Conv2d(width, 2 * width, 3, padding=1)  # 14 → 7 → 7
        )
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            second,
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        feat = 2 * width * 49
        self.adv = nn.Sequential(nn.Linear(feat + c_dim, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1))
        self.cls = nn.Linear(feat, len(cap.CLASS_WORDS))
        self.attrs = nn.Linear(feat, len(cap.ATTRIBUTES) * N_LEVELS)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.features(x)
        return {
            "adv": self.adv(torch.cat([f, c], 1)).squeeze(1),
            "cls": self.cls(f),
            "attrs": self.attrs(f).view(-1, len(cap.ATTRIBUTES), N_LEVELS),
        }


class TextToImage(nn.Module):
    """The exported graph: tokens, z, eps → 28×28 image and the 14×14 Stage-I image."""

    def __init__(self, cfg: StackConfig) -> None:
        super().__init__()
        self.text = TextEncoder(len(cap.VOCABULARY), cfg.embed_dim)
        self.ca = ConditioningAugmentation(cfg.embed_dim, cfg.c_dim)
        self.stage1 = StageI(cfg.z_dim, cfg.c_dim, cfg.width)
        self.stage2 = StageII(cfg.c_dim, cfg.width)

    def forward(self, tokens: torch.Tensor, z: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c, _, _ = self.ca(self.text(tokens), eps)
        low = self.stage1(z, c)
        return self.stage2(low, c), low


def build_tokens(
    labels: np.ndarray, levels: dict[str, np.ndarray], rng: np.random.Generator, drop: float
) -> tuple[np.ndarray, np.ndarray]:
    """Token ids [N, T] of captions with each attribute word dropped with probability `drop`; and a mask
    [N, attributes] of the attribute words kept (the auxiliary loss asks only for what the caption says)."""
    keep = rng.random((len(labels), len(cap.ATTRIBUTES))) >= drop
    tokens = np.empty((len(labels), cap.MAX_TOKENS), dtype=np.int64)
    for i, label in enumerate(labels):
        lv = {a: int(levels[a][i]) if keep[i, j] else None for j, a in enumerate(cap.ATTRIBUTES)}
        tokens[i] = cap.tokenize(cap.caption(int(label), lv))[0]
    return tokens, keep


class StackGAN(StepRun):
    """Generator graph, two discriminators and their optimisers; the caption terciles go with the checkpoint."""

    saved = ("g", "d1", "d2", "opt_g", "opt_d")
    config, kind, epoch_images = StackConfig, "text2image", EPOCH_IMAGES

    def __init__(self, cfg: StackConfig, run_dir: Path) -> None:
        super().__init__(cfg, run_dir)
        torch.manual_seed(cfg.seed)
        self.g = TextToImage(cfg)
        self.d1 = Discriminator(14, cfg.c_dim, cfg.width)
        self.d2 = Discriminator(28, cfg.c_dim, cfg.width)
        self.opt_g = torch.optim.Adam(self.g.parameters(), cfg.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam([*self.d1.parameters(), *self.d2.parameters()], cfg.lr, betas=(0.5, 0.999))
        self.terciles: cap.Terciles | None = None

    def extra_state(self) -> dict:
        assert self.terciles is not None
        return {"terciles": self.terciles.edges}

    def load_extra(self, state: dict) -> None:
        self.terciles = cap.Terciles(state["terciles"])

    def aux(
        self, out: dict[str, torch.Tensor], labels: torch.Tensor, levels: torch.Tensor, keep: torch.Tensor
    ) -> torch.Tensor:
        """Class cross-entropy plus the attribute cross-entropy of the words the caption kept."""
        per_attr = F.cross_entropy(out["attrs"].reshape(-1, N_LEVELS), levels.reshape(-1), reduction="none")
        return class_loss(out["cls"], labels) + (per_attr * keep.reshape(-1)).sum() / keep.sum().clamp(min=1.0)

    def train_step(
        self, real: torch.Tensor, tokens: torch.Tensor, labels: torch.Tensor, levels: torch.Tensor, keep: torch.Tensor
    ) -> dict[str, float]:
        cfg = self.cfg
        d_loss, g_loss = LOSSES[cfg.loss]
        n = len(real)
        real_low = F.avg_pool2d(real, 2)
        c, mu, logvar = self.g.ca(self.g.text(tokens), torch.randn(n, cfg.c_dim))
        low = self.g.stage1(torch.randn(n, cfg.z_dim), c)
        high = self.g.stage2(low.detach(), c)  # Stage-II refines a given Stage-I image (the paper fixes Stage-I)
        # discriminators: real/fake given the (detached) condition, and the real images' labels
        cd = c.detach()
        r1, f1 = self.d1(real_low, cd), self.d1(low.detach(), cd)
        r2, f2 = self.d2(real, cd), self.d2(high.detach(), cd)
        wrong = cd.roll(1, 0)  # matching-aware: a real image with another caption's code is fake
        loss_d = (
            d_loss(r1["adv"], f1["adv"])
            + d_loss(r2["adv"], f2["adv"])
            + 0.5
            * (F.softplus(self.d1(real_low, wrong)["adv"]).mean() + F.softplus(self.d2(real, wrong)["adv"]).mean())
            + cfg.aux_weight
            * (
                self.aux(r1, labels, levels, torch.ones_like(keep))
                + self.aux(r2, labels, levels, torch.ones_like(keep))
            )
        )
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        g1, g2 = self.d1(low, c), self.d2(high, c)
        aux = self.aux(g1, labels, levels, keep) + self.aux(g2, labels, levels, keep)
        kl = kl_loss(mu, logvar)
        loss_g = g_loss(g1["adv"]) + g_loss(g2["adv"]) + cfg.aux_weight * aux + cfg.kl_weight * kl
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        return {"d": loss_d.item(), "g": loss_g.item(), "aux": aux.item(), "kl": kl.item()}

    def fit(self, data_dir: Path) -> None:
        cfg = self.cfg
        x_np, y_np = load_split(data_dir, "mnist", "train")
        x_np, y_np = x_np[: cfg.limit], y_np[: cfg.limit]
        values = cap.measure(x_np)
        if self.terciles is None:
            self.terciles = cap.Terciles.fit(values, y_np)
        levels = self.terciles.levels(values, y_np)
        x = to_tensor(x_np)
        level_arr = np.stack([levels[a] for a in cap.ATTRIBUTES], 1)
        rng = np.random.default_rng((cfg.seed, self.step))  # a resumed run draws fresh batches, still seeded
        self.g.train()

        def step() -> dict[str, float]:
            idx = rng.integers(len(x), size=cfg.batch_size)
            tokens, keep = build_tokens(y_np[idx], {a: levels[a][idx] for a in cap.ATTRIBUTES}, rng, cfg.drop_word)
            return self.train_step(
                x[idx],
                torch.from_numpy(tokens),
                torch.from_numpy(y_np[idx]),
                torch.from_numpy(level_arr[idx]),
                torch.from_numpy(keep.astype(np.float32)),
            )

        self.run_steps(step)
        self.g.eval()

    @staticmethod
    def export(checkpoint: Path, data_dir: Path, folder: Path) -> tuple[dict, dict]:
        """Checkpoint → folder/{model.onnx, samples.png}; the manifest's fields and metrics."""
        g, terciles, state = load(checkpoint)
        cfg = StackConfig(**state["config"])
        path = folder / "model.onnx"
        parity = export_graph(g, cfg, path)
        # samples.png: one row per digit; columns: thin/thick × upright/slanted × small/large... eight captions each
        combos = [
            (0, 1, None),
            (2, 1, None),
            (None, 0, None),
            (None, 2, None),
            (None, None, 0),
            (None, None, 2),
            (0, 2, 0),
            (2, 2, 2),
        ]
        texts = [cap.caption(d, dict(zip(cap.ATTRIBUTES, combo, strict=True))) for d in range(10) for combo in combos]
        with torch.no_grad():
            images, _ = g(**{k: torch.from_numpy(v) for k, v in inputs_for(texts, cfg, 3).items()})
        save_grid(images.numpy(), len(combos), folder / "samples.png")
        fields = {
            "dataset": "mnist",
            "latent_dim": cfg.z_dim,
            "c_dim": cfg.c_dim,
            "image": {"channels": 1, "height": 28, "width": 28},
            "text": {
                "vocabulary": list(cap.VOCABULARY),
                "pad": cap.PAD,
                "max_tokens": cap.MAX_TOKENS,
                "split": "lower-case, then the runs of letters a-z (regex [a-z]+); other characters separate words",
                "class_words": list(cap.CLASS_WORDS),
                "attributes": {a: list(w) for a, w in cap.ATTRIBUTES.items()},
            },
            "inputs": [
                {"name": "tokens", "dtype": "int64", "shape": ["N", cap.MAX_TOKENS]},
                {"name": "z", "dtype": "float32", "shape": ["N", cfg.z_dim]},
                {"name": "eps", "dtype": "float32", "shape": ["N", cfg.c_dim]},
            ],
            "outputs": [
                {"name": "image", "dtype": "float32", "shape": ["N", 1, 28, 28]},
                {"name": "stage1", "dtype": "float32", "shape": ["N", 1, 14, 14]},
            ],
            "file": path.name,
            "sha256": file_sha256(path),
            "parity_max_abs_diff": parity,
            "training": {"attribute_terciles": terciles.edges},
        }
        return fields, text_metrics(g, terciles, cfg)


def load(checkpoint: Path) -> tuple[TextToImage, cap.Terciles, dict]:
    """Rebuild the generator graph from a checkpoint alone, in eval mode."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    g = TextToImage(StackConfig(**state["config"]))
    g.load_state_dict(state["g"])
    return g.eval(), cap.Terciles(state["terciles"]), state


def all_captions() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every fully specified caption: texts, class labels [K], requested levels [K, attributes]."""
    texts, labels, levels = [], [], []
    for label in range(len(cap.CLASS_WORDS)):
        for combo in np.ndindex(*(N_LEVELS,) * len(cap.ATTRIBUTES)):
            texts.append(cap.caption(label, dict(zip(cap.ATTRIBUTES, combo, strict=True))))
            labels.append(label)
            levels.append(combo)
    return texts, np.array(labels), np.array(levels)


def inputs_for(texts: list[str], cfg: StackConfig, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "tokens": np.stack([cap.tokenize(t)[0] for t in texts]),
        "z": rng.standard_normal((len(texts), cfg.z_dim), dtype=np.float32),
        "eps": rng.standard_normal((len(texts), cfg.c_dim), dtype=np.float32),
    }


@torch.no_grad()
def text_metrics(g: TextToImage, terciles: cap.Terciles, cfg: StackConfig, per_caption: int = 10) -> dict[str, float]:
    """Does the image match the text? The MNIST classifier's accuracy on the class word, and for each
    attribute the Pearson correlation between the requested level (0, 1, 2) and the value measured on the
    output (z-scored within its class), over every fully specified caption × `per_caption` seeds."""
    texts, labels, levels = all_captions()
    texts, labels, levels = texts * per_caption, np.tile(labels, per_caption), np.tile(levels, (per_caption, 1))
    feeds = inputs_for(texts, cfg, seed=7)
    images, _ = g(**{k: torch.from_numpy(v) for k, v in feeds.items()})
    _, pred = classify(load_classifier("mnist"), images)
    out = {"class_accuracy": float((pred == labels).mean()), "captions": float(len(texts))}
    measured = cap.measure((images.numpy()[:, 0] + 1) / 2)
    for j, a in enumerate(cap.ATTRIBUTES):
        out[f"{a}_correlation"] = float(np.corrcoef(levels[:, j], cap.within_class(measured[a], labels))[0, 1])
        got = terciles.levels(measured, labels)[a]
        out[f"{a}_level_accuracy"] = float((got == levels[:, j]).mean())
    return out


def export_graph(g: TextToImage, cfg: StackConfig, path: Path) -> float:
    """ONNX with a dynamic batch axis, then parity on PARITY_INPUTS captions; returns the max difference."""
    export_module(g.eval(), inputs_for(["a thick seven", "a small upright two"], cfg, 0), path, OUTPUTS)
    texts = all_captions()[0]
    return check_module_parity(g, path, inputs_for([texts[i * 4] for i in range(PARITY_INPUTS)], cfg, 1), OUTPUTS)
