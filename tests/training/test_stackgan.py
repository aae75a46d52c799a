"""StackGAN: captions from measured attributes, the text path, a few training steps, export and serving."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from service import text
from service.manifest import TextToImageManifest, load_any_manifest
from service.pipelines import load_pipeline
from service.settings import Settings
from training import captions as cap
from training import stackgan
from training.data import load_split


def digits(data_dir, n=2000):
    x, y = load_split(data_dir, "mnist", "test")
    return x[:n], y[:n]


def test_measures_move_the_way_their_words_say(data_dir):
    x, _ = digits(data_dir, 200)
    base = cap.measure(x)
    thick = cap.measure(ndimage.grey_dilation(x, size=(1, 3, 3)))
    assert (thick["thickness"] > base["thickness"]).mean() > 0.95
    lean_right = np.stack([ndimage.affine_transform(im, [[1, 0], [0.4, 1]], offset=(0, -5.6)) for im in x])
    assert (cap.measure(lean_right)["slant"] > base["slant"]).mean() > 0.95  # x drifts right going up
    small = np.zeros_like(x)
    small[:, 7:21, 7:21] = np.stack([np.asarray(ndimage.zoom(im, 0.5, order=1)) for im in x])
    assert (cap.measure(small)["size"] < base["size"]).mean() > 0.95


def test_terciles_split_each_class_in_thirds(data_dir):
    x, y = digits(data_dir)
    values = cap.measure(x)
    levels = cap.Terciles.fit(values, y).levels(values, y)
    for a in cap.ATTRIBUTES:
        for c in range(10):
            share = np.bincount(levels[a][y == c], minlength=3) / (y == c).sum()
            assert np.all(np.abs(share - 1 / 3) < 0.05), (a, c, share)
            lo, hi = values[a][(y == c) & (levels[a] == 0)], values[a][(y == c) & (levels[a] == 2)]
            assert lo.max() < hi.min()


def test_captions_tokenize_as_the_service_does():
    caption = cap.caption(7, {"thickness": 2, "slant": 2, "size": None})
    assert caption == "a thick slanted seven"
    ids, unknown = cap.tokenize(caption)
    assert unknown == [] and ids.shape == (cap.MAX_TOKENS,) and ids.dtype == np.int64
    assert [cap.VOCABULARY[i] for i in ids if i] == ["a", "thick", "slanted", "seven"]
    theirs, unknown = text.tokenize("A  THICK,slanted sevenx!", cap.VOCABULARY, cap.MAX_TOKENS)
    assert [cap.VOCABULARY[i] for i in theirs if i] == ["a", "thick", "slanted"] and unknown == ["sevenx"]


def test_word_dropout_masks_the_dropped_attributes():
    rng = np.random.default_rng(0)
    labels = np.arange(10)
    levels = {a: np.full(10, 2) for a in cap.ATTRIBUTES}
    tokens, keep = stackgan.build_tokens(labels, levels, rng, drop=0.5)
    for row, kept in zip(tokens, keep, strict=True):
        words = {cap.VOCABULARY[i] for i in row if i}
        assert [cap.ATTRIBUTES[a][2] in words for a in cap.ATTRIBUTES] == list(kept)
    assert 0 < keep.mean() < 1


def test_conditioning_augmentation_and_kl():
    ca = stackgan.ConditioningAugmentation(4, 3)
    e = torch.randn(5, 4)
    c0, mu, _ = ca(e, torch.zeros(5, 3))
    assert torch.equal(c0, mu) and not torch.equal(ca(e, torch.ones(5, 3))[0], mu)
    assert stackgan.kl_loss(torch.zeros(2, 3), torch.zeros(2, 3)).item() == 0
    assert stackgan.kl_loss(torch.ones(2, 3), torch.zeros(2, 3)).item() == pytest.approx(1.5)


def test_trains_exports_with_parity_and_the_service_serves_it(tmp_path, data_dir, monkeypatch):
    monkeypatch.setattr(stackgan, "text_metrics", lambda *a, **k: {"class_accuracy": 0.0})  # needs 2700 images
    cfg = stackgan.StackConfig(name="t-stackgan", width=8, steps=2, batch_size=16, limit=512)
    model = stackgan.StackGAN(cfg, tmp_path / "run")
    before = [p.detach().clone() for p in model.g.parameters()]
    model.fit(data_dir)
    assert model.step == 2 and model.checkpoint_path.is_file()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.g.parameters(), strict=True))
    resumed = stackgan.StackGAN(cfg, tmp_path / "run")
    assert resumed.resume() and resumed.step == 2 and resumed.terciles == model.terciles
    manifest = stackgan.StackGAN.export_run(model.checkpoint_path, data_dir, tmp_path / "models")
    assert manifest["parity_max_abs_diff"] <= 1e-4
    folder = tmp_path / "models" / "t-stackgan"
    m = load_any_manifest(folder)
    assert isinstance(m, TextToImageManifest) and m.text.vocabulary == list(cap.VOCABULARY)
    served = load_pipeline(folder, m, Settings(threads=1))
    tokens, known, unknown = served.tokenize("a thick zeven two")
    assert known == ["a", "thick", "two"] and unknown == ["zeven"]
    feeds = served.feeds(tokens, [3, 4])
    images, low = served.split(served.runner.run(feeds))
    assert images.shape == (2, 1, 28, 28) and low.shape == (2, 1, 14, 14)
    g, _, _ = stackgan.load(model.checkpoint_path)
    with torch.no_grad():
        want, want_low = g(**{k: torch.from_numpy(v) for k, v in feeds.items()})
    np.testing.assert_allclose(images, want.numpy(), atol=1e-4)
    np.testing.assert_allclose(low, want_low.numpy(), atol=1e-4)
