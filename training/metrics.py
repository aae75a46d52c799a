"""The quality figures as plain maths on features, counts and codes: no model, no data loading.

FID here is the Fréchet distance between Gaussians fitted to the evaluation classifier's penultimate features (a
domain feature space, as Inception's is for photos); classifier.py supplies the features and the real-vs-real floor.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg
from scipy.optimize import linear_sum_assignment

from .captions import measure, within_class


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """‖μ1 - μ2‖² + Tr(Σ1 + Σ2 - 2(Σ1Σ2)^½) (Heusel 2017)."""
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():  # nearly singular product: nudge both diagonals
        eye = np.eye(len(mu1)) * 1e-6
        covmean = linalg.sqrtm((sigma1 + eye) @ (sigma2 + eye))
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def moments(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = features.astype(np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


K_NEAREST = 3  # the k of precision and recall's k-th nearest neighbour radii


def knn_radii(points: np.ndarray, k: int = K_NEAREST, chunk: int = 1000) -> torch.Tensor:
    """Each point's distance to its k-th nearest neighbour among the others (index k, as index 0 is itself).

    For the 10,000 test features this is the costly half of precision and recall (a 10,000 × 10,000 distance
    matrix), and it depends only on the reference: `classifier.reference_features` computes it once.
    """
    x = torch.from_numpy(points).double()
    return torch.cat([torch.cdist(x[i : i + chunk], x).kthvalue(k + 1, dim=1).values for i in range(0, len(x), chunk)])


def precision_recall(
    real: np.ndarray, fake: np.ndarray, real_radii: torch.Tensor | None = None, chunk: int = 1000
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi 2019): the share of fakes inside the real manifold, and of reals
    inside the fake one, each manifold the union of balls reaching every point's k-th nearest neighbour.

    FID folds both into one number; these say which is missing: quality (precision) or coverage (recall).
    `real_radii` is `knn_radii(real)` where the caller already has it.
    """
    r, f = torch.from_numpy(real).double(), torch.from_numpy(fake).double()
    if real_radii is None:
        real_radii = knn_radii(real, chunk=chunk)

    def covered(points: torch.Tensor, centres: torch.Tensor, radius: torch.Tensor) -> float:
        inside = [(torch.cdist(points[i : i + chunk], centres) <= radius).any(1) for i in range(0, len(points), chunk)]
        return float(torch.cat(inside).double().mean())

    return covered(f, r, real_radii), covered(r, f, knn_radii(fake, chunk=chunk))


def class_balance(counts: np.ndarray) -> dict[str, float]:
    """How evenly unconditional samples spread over the classes, from their histogram: the largest class count over
    the smallest (1 is even; a class never drawn counts as drawn once) and the entropy over log k (1 is even)."""
    p = counts[counts > 0] / counts.sum()
    return {
        "class_max_min": float(counts.max() / max(counts.min(), 1)),
        "class_entropy": float(-(p * np.log(p)).sum() / np.log(len(counts))),
    }


def code_purity(codes: np.ndarray, predicted: np.ndarray, k: int) -> float:
    """Share of samples whose predicted class matches their code under the best one-to-one matching."""
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (codes, predicted), 1)
    rows, cols = linear_sum_assignment(-confusion)
    return float(confusion[rows, cols].sum() / len(codes))


def code_attributes(images: np.ndarray, c_cont: np.ndarray, c_cat: np.ndarray) -> dict[str, dict[str, float]]:
    """Pearson r of each continuous code with each attribute captions.measure finds in the images it drew, the
    attribute z-scored within each categorical value (as StackGAN's captions are scored), so that the digit a
    categorical code draws does not drown the style a continuous code controls.

    images: [N, 1, H, W] in [-1, 1]; c_cont: [N, k], drawn independently of everything else; c_cat: [N]. An
    attribute that does not vary at all correlates with nothing: r = 0.
    """
    values = {a: within_class(v, c_cat) for a, v in measure((images[:, 0] + 1) / 2).items()}
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            f"c{j + 1}": {
                a: round(float(np.nan_to_num(np.corrcoef(c_cont[:, j], v)[0, 1])), 4) for a, v in values.items()
            }
            for j in range(c_cont.shape[1])
        }


def code_names(correlations: dict[str, dict[str, float]], threshold: float = 0.5) -> dict[str, dict]:
    """Each code's best-tracked attribute where |r| reaches the threshold: a name to show beside its slider,
    as {"c1": {"attribute": "slant", "r": -0.86}}."""
    names = {}
    for code, rs in correlations.items():
        attribute = max(rs, key=lambda a: abs(rs[a]))
        if abs(rs[attribute]) >= threshold:
            names[code] = {"attribute": attribute, "r": rs[attribute]}
    return names
