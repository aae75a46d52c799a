"""Restyling changes how a digit is drawn, not which digit it is, and lets gradients through."""

import torch

from training.augment import restyle
from training.data import load_split, to_tensor
from training.evaluate import classify, load_classifier


def test_restyled_digits_keep_their_identity(data_dir):
    images, labels = load_split(data_dir, "mnist", "test")
    x = to_tensor(images[:1000])
    torch.manual_seed(0)
    y = restyle(x)
    assert y.shape == x.shape and y.min() >= -1.0 and y.max() <= 1.0
    assert (y - x).abs().mean() > 0.05, "restyling must change the drawing"
    _, pred = classify(load_classifier("mnist"), y)
    # The evaluation classifier never saw a restyled digit (99.3% on these plain ones).
    assert (pred == labels[:1000]).mean() >= 0.8


def test_restyle_is_seeded_differentiable_and_keeps_an_empty_background():
    blank = torch.full((4, 1, 28, 28), -1.0)
    assert torch.equal(restyle(blank), blank)
    x = torch.rand(8, 1, 28, 28, requires_grad=True) * 2 - 1
    torch.manual_seed(3)
    a = restyle(x)
    torch.manual_seed(3)
    assert torch.equal(a, restyle(x))
    (grad,) = torch.autograd.grad(a.sum(), x)
    assert grad.abs().sum() > 0
