"""Restyling changes how a digit is drawn, not which digit it is, and lets gradients through; the parity reading
splits Q's codes by how a mirror or a transpose changes them."""

import pytest
import torch

from training.augment import SYMMETRIES, parity_reading, restyle
from training.classifier import classify, load_classifier
from training.data import load_split, to_tensor


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


@pytest.mark.parametrize("name", SYMMETRIES)
def test_each_code_is_read_by_the_parity_it_declares(name):
    torch.manual_seed(0)
    q = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 3))  # any reading at all, chiral included
    flip = SYMMETRIES[name]
    parity = (f"{name}-odd", f"{name}-even", "")

    def reading(x):
        return parity_reading(q, x, q(x), parity)

    x = torch.rand(5, 1, 28, 28)
    read, flipped = reading(x), reading(flip(x))
    assert torch.allclose(flipped[:, 0], -read[:, 0], atol=1e-6)
    assert torch.allclose(flipped[:, 1], read[:, 1], atol=1e-6)
    assert torch.equal(read[:, 2], q(x)[:, 2])
    assert not torch.allclose(q(flip(x)), q(x), atol=1e-3)  # the plain reading has no parity
    symmetric = x + flip(x)  # an image the symmetry leaves alone: nothing in it can carry an odd code
    assert torch.allclose(reading(symmetric)[:, 0], torch.zeros(5), atol=1e-6)
