"""Losses as plain functions over logits and tensors.

Adversarial losses come in d_/g_ pairs with one signature each, looked up by name in LOSSES:
`d(real_adv, fake_adv) -> loss` and `g(fake_adv) -> loss`, where `*_adv` is the discriminator's
real/fake logit (or the critic's value). The other terms are added by the trainer when a variant asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

import torch
import torch.nn.functional as F


def d_vanilla(real: torch.Tensor, fake: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """Goodfellow 2014's discriminator loss; real_target < 1 is one-sided label smoothing."""
    return F.binary_cross_entropy_with_logits(real, torch.full_like(real, real_target)) + F.softplus(fake).mean()


def g_vanilla(fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss: maximise log D(G(z)) rather than minimise log(1 - D(G(z)))."""
    return F.softplus(-fake).mean()


def d_wasserstein(real: torch.Tensor, fake: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """The critic maximises E[f(real)] - E[f(fake)] (Arjovsky 2017)."""
    return fake.mean() - real.mean()


def g_wasserstein(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def d_least_squares(real: torch.Tensor, fake: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """LSGAN with the 0-1 coding a=0, b=c=1 (Mao 2017): penalises samples far from the boundary."""
    return 0.5 * ((real - real_target) ** 2).mean() + 0.5 * (fake**2).mean()


def g_least_squares(fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((fake - 1.0) ** 2).mean()


class LossPair(NamedTuple):
    d: Callable[..., torch.Tensor]
    g: Callable[[torch.Tensor], torch.Tensor]


LOSSES: dict[str, LossPair] = {
    "vanilla": LossPair(d_vanilla, g_vanilla),
    "wasserstein": LossPair(d_wasserstein, g_wasserstein),
    "least_squares": LossPair(d_least_squares, g_least_squares),
}


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP (Gulrajani 2017): (‖∇f(x̂)‖₂ - 1)² on random points between real and fake."""
    eps = torch.rand(real.shape[0], 1, 1, 1, generator=generator, device=real.device)
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def feature_matching(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """Salimans 2016 §3.1: G matches the mean of D's intermediate features on real data."""
    return ((real_features.detach().mean(0) - fake_features.mean(0)) ** 2).mean()


def class_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of a class head: ACGAN's auxiliary classifier, SGAN's supervised term."""
    return F.cross_entropy(logits, labels)


def info_loss(
    q_cat: torch.Tensor,
    q_cont: torch.Tensor,
    c_cat: torch.Tensor,
    c_cont: torch.Tensor,
    cont_weight: float,
    q_log_std: torch.Tensor | None = None,
) -> torch.Tensor:
    """Negative InfoGAN lower bound on I(c; G(z, c)) (Chen 2016), up to constants.

    Categorical code: cross-entropy of Q's logits. Continuous codes: the negative log-likelihood of a factored
    Gaussian Q, with the standard deviations Q predicts, or unit ones (then it is half the squared error). A
    learned σ shrinks as a code becomes readable, which weighs that code's error more: the code is pushed to mean
    something rather than merely to be recoverable on average.
    """
    log_std = torch.zeros_like(q_cont) if q_log_std is None else q_log_std.clamp(-5.0, 2.0)
    nll = log_std + 0.5 * ((q_cont - c_cont) / log_std.exp()) ** 2
    return F.cross_entropy(q_cat, c_cat) + cont_weight * nll.sum(1).mean()


def historical_average(params: Iterable[torch.Tensor], averages: Iterable[torch.Tensor]) -> torch.Tensor:
    """Salimans 2016 §3.3: ‖θ - mean of past θ‖², pulling each player back from oscillation."""
    return sum(((p - a) ** 2).sum() for p, a in zip(params, averages, strict=True))  # type: ignore[return-value]
