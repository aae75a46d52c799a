import numpy as np
import pytest
import torch

from training import losses
from training.metrics import (
    class_balance,
    code_attributes,
    code_names,
    code_purity,
    frechet_distance,
    knn_radii,
    precision_recall,
)


def test_confident_discriminator_has_near_zero_loss():
    real, fake = torch.full((8,), 20.0), torch.full((8,), -20.0)
    assert losses.d_vanilla(real, fake) < 1e-6
    assert losses.d_least_squares(torch.ones(8), torch.zeros(8)) == 0
    assert losses.g_vanilla(fake) > 10  # fooled nobody: large loss, but not saturated
    assert losses.g_least_squares(torch.ones(8)) == 0


def test_label_smoothing_penalises_overconfidence():
    real, fake = torch.full((8,), 20.0), torch.full((8,), -20.0)
    assert losses.d_vanilla(real, fake, real_target=0.9) > losses.d_vanilla(real, fake) + 1


def test_wasserstein_signs():
    real, fake = torch.full((4,), 3.0), torch.full((4,), -1.0)
    assert losses.d_wasserstein(real, fake) == -4
    assert losses.g_wasserstein(fake) == 1


def test_gradient_penalty_zero_for_unit_gradient_critic():
    w = torch.zeros(1, 1, 4, 4)
    w[0, 0, 0, 0] = 1.0  # f(x) = x[0, 0, 0]: gradient norm exactly 1 everywhere

    def critic(x):
        return (x * w).flatten(1).sum(1)

    real, fake = torch.randn(6, 1, 4, 4), torch.randn(6, 1, 4, 4)
    assert losses.gradient_penalty(critic, real, fake).item() < 1e-10
    assert losses.gradient_penalty(lambda x: 3 * critic(x), real, fake).item() == 4.0


def test_feature_matching_and_info_loss():
    f = torch.randn(16, 8)
    assert losses.feature_matching(f, f.clone()) == 0
    c_cat = torch.tensor([0, 1, 2])
    perfect = torch.nn.functional.one_hot(c_cat, 3).float() * 50
    c_cont = torch.randn(3, 2)
    assert losses.info_loss(perfect, c_cont, c_cat, c_cont, 0.1) < 1e-6
    assert losses.info_loss(-perfect, c_cont, c_cat, c_cont, 0.1) > 10
    # each continuous code 1 off: 0.5 · 1² per code, summed over 2 codes, times the weight
    torch.testing.assert_close(losses.info_loss(perfect, c_cont + 1, c_cat, c_cont, 0.3), torch.tensor(0.3))
    # a learned σ: log σ + (error / σ)² / 2 per code; unit σ is the fixed-σ loss, a small σ weighs the error more
    zeros = torch.zeros(3, 2)
    torch.testing.assert_close(losses.info_loss(perfect, c_cont + 1, c_cat, c_cont, 0.3, zeros), torch.tensor(0.3))
    sharp = losses.info_loss(perfect, c_cont + 1, c_cat, c_cont, 1.0, zeros + np.log(0.5))
    torch.testing.assert_close(sharp, torch.tensor(2 * (np.log(0.5) + 2.0), dtype=torch.float32))


def test_code_attributes_find_what_a_code_controls():
    """A code that moves two strokes apart is named width; one that does nothing is left unnamed."""
    rng = np.random.default_rng(0)
    c = rng.uniform(-1, 1, (200, 2))
    images = -np.ones((200, 1, 28, 28))
    for i, w in enumerate(np.rint(10 + 6 * c[:, 0]).astype(int)):  # two upright 2-pixel strokes w pixels apart
        images[i, 0, 6:22, 13 - w // 2 : 15 - w // 2] = images[i, 0, 6:22, 13 + w - w // 2 : 15 + w - w // 2] = 1.0
    correlations = code_attributes(images, c, np.arange(200) % 2)
    assert correlations["c1"]["width"] > 0.95 and abs(correlations["c2"]["width"]) < 0.2
    assert code_names(correlations) == {"c1": {"attribute": "width", "r": correlations["c1"]["width"]}}


def test_historical_average():
    p = [torch.ones(3)]
    assert losses.historical_average(p, [torch.ones(3)]) == 0
    assert losses.historical_average(p, [torch.zeros(3)]) == 3


def test_frechet_distance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 4))
    mu, sigma = x.mean(0), np.cov(x, rowvar=False)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6
    assert abs(frechet_distance(mu, sigma, mu + 2, sigma) - 16) < 1e-6


def test_code_purity_finds_the_best_matching():
    codes = np.repeat(np.arange(3), 10)
    assert code_purity(codes, (codes + 1) % 3, 3) == 1.0
    noisy = codes.copy()
    noisy[:5] = 2
    assert code_purity(codes, noisy, 3) == 25 / 30


def test_precision_and_recall_tell_quality_from_coverage():
    """Kynkäänniemi 2019: fakes on one of two real clusters are all plausible (precision 1) but cover half the
    reals (recall 0.5); fakes far from every real are neither; the same set against itself is both."""
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(0, 1, (200, 8)), rng.normal(50, 1, (200, 8))])
    assert precision_recall(blobs, blobs) == (1.0, 1.0)
    precision, recall = precision_recall(blobs, rng.normal(0, 1, (400, 8)))
    assert precision > 0.8 and 0.35 < recall <= 0.5
    assert precision_recall(blobs, rng.normal(-50, 1, (400, 8))) == (0.0, 0.0)
    fakes = rng.normal(0, 1, (400, 8))
    radii = knn_radii(blobs)  # what reference_features computes once for every model it measures
    assert precision_recall(blobs, fakes, radii) == precision_recall(blobs, fakes)
    assert precision_recall(blobs, fakes, radii * 0) != precision_recall(blobs, fakes)


def test_class_balance():
    even = class_balance(np.bincount(np.repeat(np.arange(10), 7), minlength=10))
    assert even == {"class_max_min": 1.0, "class_entropy": pytest.approx(1.0)}
    skewed = class_balance(np.bincount([0] * 30 + [1] * 10 + list(range(2, 10)), minlength=10))
    assert skewed["class_max_min"] == 30.0 and skewed["class_entropy"] < 0.8
    assert class_balance(np.bincount(np.zeros(5, dtype=np.int64), minlength=10)) == {
        "class_max_min": 5.0,
        "class_entropy": 0.0,
    }
