"""How well an encoder inverts its generator, and how far any could (issue #21): the figures through both exported
graphs on the test split, G's effective rank and the optimised inversion behind the latent cosine bar, the encoder's
entry in the manifest, and its MODELS.md section."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F

from .classifier import load_classifier
from .data import load_split, to_tensor
from .export import onnx_inputs, spread_conditions, write_manifest
from .figures import save_grid
from .models import Generator

log = logging.getLogger(__name__)

GRID = "reconstructions.png"
# The bars of issue #21: the class G(E(x)) keeps, per dataset, and latent recovery on G's own samples.
CLASS_KEPT_BAR = {"mnist": 0.90, "fashion-mnist": 0.80}
LATENT_COSINE_BAR = 0.9


def _run(
    session: ort.InferenceSession, feeds: dict[str, np.ndarray], names: list[str], chunk: int = 500
) -> list[np.ndarray]:
    n = len(next(iter(feeds.values())))
    parts = [session.run(names, {k: v[s : s + chunk] for k, v in feeds.items()}) for s in range(0, n, chunk)]
    return [np.concatenate([p[i] for p in parts]) for i in range(len(names))]


def measure(
    folder: Path, manifest: dict, data_dir: Path, samples: int = 2000, images: int | None = None
) -> tuple[dict, np.ndarray]:
    """The figures of issue #21 through the exported graphs, on the test split (its first `images`; all by default):
    the share of images whose class (the evaluation classifier's) G(E(x)) keeps, and the share matching the true
    label; mean pixel L1 (pixels in [0, 1]); mean cosine of E(G(z)) with z over `samples` draws. Also returns 8
    inputs over their reconstructions."""
    opts = {"providers": ["CPUExecutionProvider"]}
    gen = ort.InferenceSession(str(folder / manifest["file"]), **opts)
    enc = ort.InferenceSession(str(folder / manifest["encoder"]["file"]), **opts)
    outs = [o["name"] for o in manifest["encoder"]["outputs"]]
    dataset, conditional = manifest["dataset"], manifest["conditional"]
    test_images, labels = load_split(data_dir, dataset, "test")
    x, labels = to_tensor(test_images[:images]).numpy(), labels[:images]
    feeds = {"image": x} | ({"label": labels} if conditional else {})
    coded = dict(zip(outs, _run(enc, feeds, outs), strict=True))
    g_feeds = {"z": coded["latent"]} | ({"label": labels} if conditional else {})
    if "c_cat" in coded:
        g_feeds |= {"c_cat": coded["c_cat"], "c_cont": coded["c_cont"]}
    recon = _run(gen, g_feeds, ["image"])[0]
    classifier = load_classifier(dataset)
    with torch.no_grad():
        pred_x = np.concatenate(
            [classifier(torch.from_numpy(x[s : s + 1000])).argmax(1).numpy() for s in range(0, len(x), 1000)]
        )
        pred_r = np.concatenate(
            [classifier(torch.from_numpy(recon[s : s + 1000])).argmax(1).numpy() for s in range(0, len(x), 1000)]
        )
    rng = np.random.default_rng(12345)
    z = rng.standard_normal((samples, manifest["latent_dim"]), dtype=np.float32)
    codes = manifest.get("codes")
    k = codes["categorical"][0] if codes else None
    z_feeds = {"z": z} | spread_conditions(samples, manifest["num_classes"] if conditional else None, k)
    if codes:
        z_feeds["c_cont"] = rng.uniform(-1, 1, (samples, manifest["codes"]["continuous"])).astype(np.float32)
    fake = _run(gen, z_feeds, ["image"])[0]
    back = _run(enc, {"image": fake} | ({"label": z_feeds["label"]} if conditional else {}), ["latent"])[0]
    cosine = np.sum(back * z, 1) / (np.linalg.norm(back, axis=1) * np.linalg.norm(z, axis=1))
    figures = {
        "class_kept": round(float((pred_r == pred_x).mean()), 4),
        "label_kept": round(float((pred_r == labels).mean()), 4),
        "pixel_l1": round(float(np.abs(recon - x).mean() / 2), 4),
        "latent_cosine": round(float(cosine.mean()), 4),
        "test_images": len(x),
        "latent_samples": samples,
    }
    grid = np.concatenate([x[:8], recon[:8]])
    return figures, grid


def effective_rank(g: Generator, samples: int = 8, rel: float = 0.01, seed: int = 0) -> float:
    """Median, over `samples` draws of z, of how many singular values of G's Jacobian d image / d z exceed `rel`
    of the largest: the latent directions an image tells apart at all. Where it is far below latent_dim, no
    encoder can recover z from G(z) (the cosine bar is out of reach), however well it is trained."""
    gen = torch.Generator().manual_seed(seed)
    feeds = onnx_inputs(g, samples, seed=seed)
    ranks = []
    for i in range(samples):
        z = torch.randn(1, g.cfg.latent_dim, generator=gen)
        rest = {k: torch.from_numpy(v[i : i + 1]) for k, v in feeds.items() if k != "z"}
        jac = torch.autograd.functional.jacobian(lambda v, rest=rest: g(v, **rest).flatten(), z, vectorize=True)
        values = torch.linalg.svdvals(jac.reshape(-1, g.cfg.latent_dim))
        ranks.append(int((values > rel * values[0]).sum()))
    return float(np.median(ranks))


def optimised_inversion(g: Generator, samples: int = 64, steps: int = 1500, seed: int = 0) -> dict[str, float]:
    """How far G(z) pins z down: per image, z' (from an independent draw) follows Adam until G(z') matches G(z)
    in pixels, the label and codes given. The median pixel L1 it reaches and the median cosine of z' with z: images
    that agree to a fraction of a grey level while z' points elsewhere show that several latents draw one image, so
    no encoder, whatever it sees, can recover z to that cosine bar."""
    gen = torch.Generator().manual_seed(seed)
    rest = {k: torch.from_numpy(v) for k, v in onnx_inputs(g, samples, seed=seed).items() if k != "z"}
    z = torch.randn(samples, g.cfg.latent_dim, generator=gen)
    with torch.no_grad():
        target = g(z, **rest)
    guess = torch.randn(samples, g.cfg.latent_dim, generator=gen).requires_grad_(True)
    opt = torch.optim.Adam([guess], lr=0.05)
    for _ in range(steps):
        loss = (g(guess, **rest) - target).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        l1 = (g(guess, **rest) - target).abs().mean((1, 2, 3)) / 2  # pixels in [0, 1]
        cosine = F.cosine_similarity(guess, z)
    return {"optimised_pixel_l1": round(float(l1.median()), 4), "optimised_cosine": round(float(cosine.median()), 4)}


def record_figures(g: Generator, folder: Path, manifest: dict, data_dir: Path) -> dict:
    """The encoder's figures (`measure`, G's rank, the optimised inversion) and its grid, written with the manifest."""
    figures, grid = measure(folder, manifest, data_dir)
    entry = manifest["encoder"]
    entry["metrics"] = figures | {"generator_effective_rank": effective_rank(g)} | optimised_inversion(g)
    save_grid(grid, 8, folder / GRID)
    # Only the encoder's entry changes: what another command wrote meanwhile (a truncation table) stays.
    current = json.loads((folder / "manifest.json").read_text())
    if current["sha256"] != manifest["sha256"]:
        raise ValueError(f"{folder.name}: the generator was exported again while its encoder trained")
    write_manifest(folder, current | {"encoder": entry})
    log.info("%s encoder: %s", folder.name, entry["metrics"])
    return entry


def encoder_section(manifests: list[dict], rel: Path) -> list[str]:
    """MODELS.md lines for the models with an encoder: the figures against the bars and the reconstruction
    grids (`rel`: the path from docs/ to exported_models/)."""
    with_encoder = [m for m in manifests if m.get("encoder")]
    if not with_encoder:
        return []
    lines = [
        "## Encoders (issue #21)",
        "",
        "An encoder E per generator G (G frozen) maps an image to G's latent: trained on G's samples (latent loss)",
        "and on real training images (L1 and classifier-feature reconstruction losses), exported as `encoder.onnx`.",
        "Measured through both ONNX graphs on the test split: the share of images whose class (the evaluation",
        "classifier's) G(E(x)) keeps (bar: 90% MNIST, 80% Fashion), the share matching the true label, the mean",
        "pixel L1 of G(E(x)) against x (pixels in [0, 1]), and the mean cosine of E(G(z)) with z over 2,000 draws",
        "(bar: 0.9). G's rank is the median number of singular values of its Jacobian d image / d z above 1% of the",
        "largest, over 8 draws: the latent directions an image tells apart at all. Optimised z′ is the cosine bar's",
        "ceiling: per image of 64, z′ from an independent draw follows Adam for 1,500 steps until G(z′) matches G(z)",
        "(label and codes given); the median pixel L1 it reaches, and the median cosine of z′ with z. Images that",
        "agree to a fraction of a grey level while z′ points elsewhere show that G(z) does not determine z: no",
        "encoder can recover z to cosine 0.9 from the image alone.",
        "",
        "| model | class kept | true label kept | pixel L1 | latent cosine | G's rank / latent size "
        "| optimised z′: pixel L1, cosine | steps | train time | bars |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in with_encoder:
        enc, fig = m["encoder"], m["encoder"]["metrics"]
        missed = []
        if fig["class_kept"] < CLASS_KEPT_BAR.get(m["dataset"], 0.9):
            missed.append(f"class kept ≥ {CLASS_KEPT_BAR.get(m['dataset'], 0.9):.0%}")
        if fig["latent_cosine"] < LATENT_COSINE_BAR:
            missed.append(f"latent cosine ≥ {LATENT_COSINE_BAR}")
        bars = "misses " + ", ".join(missed) if missed else "all"
        minutes = enc["training"]["wall_time_s"] / 60
        rank = fig.get("generator_effective_rank")
        rank_text = "–" if rank is None else f"{rank:.0f} / {m.get('latent_dim', '?')}"
        ceiling = (
            f"{fig['optimised_pixel_l1']:.4f}, {fig['optimised_cosine']:.2f}" if "optimised_cosine" in fig else "–"
        )
        lines.append(
            f"| {m['name']} | {fig['class_kept']:.2%} | {fig['label_kept']:.2%} | {fig['pixel_l1']:.3f} | "
            f"{fig['latent_cosine']:.3f} | {rank_text} | {ceiling} | {enc['training']['steps']} | {minutes:.0f} min "
            f"| {bars} |"
        )
    lines.append("")
    for m in with_encoder:
        lines += [
            f"**{m['name']}**: test images (top row) and G(E(x)) (bottom row)",
            "",
            f'<img src="{rel / m["name"] / GRID}" width="448" alt="{m["name"]} reconstructions">',
            "",
        ]
    return lines
