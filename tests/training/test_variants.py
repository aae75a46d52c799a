"""Every registered variant trains a few steps on a 512-image slice, exports, passes parity, writes a valid manifest."""

import json
from dataclasses import replace

import numpy as np
import onnxruntime as ort
import pytest
import torch

from service.manifest import Manifest
from training.export import export
from training.recipes import recipe
from training.trainer import TrainConfig, Trainer
from training.variants import VARIANTS


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_trains_exports_and_validates(tmp_path, data_dir, name):
    dataset = "fashion-mnist" if name == "cgan" else "mnist"
    cfg = TrainConfig(
        model=f"t-{name}",
        dataset=dataset,
        variant=name,
        limit=512,
        max_steps=2,
        epochs=3,
        data_dir=str(data_dir),
        runs_dir=str(tmp_path / "runs"),
        log_every=1,
    )
    trainer = Trainer(cfg)
    before = [p.detach().clone() for p in trainer.G.parameters()]
    trainer.fit()
    assert trainer.step == 2 and trainer.history, "two generator steps, each logged"
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G.parameters(), strict=True))
    manifest = export(trainer.checkpoint_path, tmp_path / "models", cfg.model)
    m = Manifest.model_validate(manifest)
    assert m.variant == name and m.dataset == dataset
    assert manifest["parity_max_abs_diff"] <= 1e-4
    folder = tmp_path / "models" / cfg.model
    assert json.loads((folder / "manifest.json").read_text()) == json.loads(json.dumps(manifest))
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [i.name for i in m.inputs]
    feeds = {"z": np.zeros((3, m.latent_dim), np.float32)}
    if m.conditional:
        feeds["label"] = np.array([0, 1, 2], np.int64)
    if m.codes:
        feeds["c_cat"] = np.array([0, 1, 2], np.int64)
        feeds["c_cont"] = np.zeros((3, m.codes.continuous), np.float32)
    (image,) = session.run(None, feeds)
    assert image.shape == (3, 1, 28, 28) and np.abs(image).max() <= 1.0
    if name.startswith("sgan"):
        assert 0.0 <= m.metrics["sgan_test_accuracy"] <= 1.0


def test_resume_continues_exactly(tmp_path, data_dir):
    """Two sittings of 2 steps end with the same weights as one sitting of 4."""

    def run(max_steps, folder, resume):
        cfg = TrainConfig(
            model="r",
            variant="dcgan",
            limit=512,
            max_steps=max_steps,
            epochs=2,
            data_dir=str(data_dir),
            runs_dir=str(folder),
        )
        t = Trainer(cfg)
        if resume:
            assert t.resume()
        t.fit()
        return t

    whole = run(4, tmp_path / "a", resume=False)
    run(2, tmp_path / "b", resume=False)
    split = run(4, tmp_path / "b", resume=True)
    for a, b in zip(whole.G.state_dict().values(), split.G.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_later_learning_rate_phase_resumes_a_run_trained_before_it(tmp_path, data_dir):
    """A run resumed under a declaration that adds a phase after the checkpoint ends as if declared so from the start;
    a phase that would already have begun is a different past, so resuming refuses."""
    plain = VARIANTS["dcgan"]
    phased = replace(plain, lr_phases=((1.0, 1e-3, 5e-3),))
    assert phased.learning_rates(0.9) == (2e-4, 2e-4) and phased.learning_rates(1.0) == (1e-3, 5e-3)

    def run(variant, epochs, folder, resume=False):
        cfg = TrainConfig(model="p", limit=512, epochs=epochs, data_dir=str(data_dir), runs_dir=str(folder))
        t = Trainer(cfg, variant)
        if resume:
            assert t.resume()
        t.fit()
        return t

    whole = run(phased, 2, tmp_path / "a")
    run(plain, 1, tmp_path / "b")
    split = run(phased, 2, tmp_path / "b", resume=True)
    assert [g["lr"] for g in split.opt_g.param_groups + split.opt_d.param_groups] == [1e-3, 5e-3]
    for a, b in zip(whole.G.state_dict().values(), split.G.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match="another variant configuration"):
        Trainer(
            TrainConfig(model="p", limit=512, data_dir=str(data_dir), runs_dir=str(tmp_path / "b")),
            replace(plain, lr_phases=((0.5, 1e-3, 5e-3),)),
        ).resume()
    with pytest.raises(ValueError, match="lr_phases must be"):
        replace(plain, lr_phases=((2.0, 1e-3, 1e-3), (1.0, 1e-3, 1e-3))).validate()


def test_validate_names_what_to_change():
    with pytest.raises(ValueError, match="gradient penalty needs d_norm"):
        replace(VARIANTS["dcgan"], gp_weight=10.0).validate()
    with pytest.raises(ValueError, match="unknown variant field"):
        VARIANTS["dcgan"].with_overrides({"lr": 1.0})
    with pytest.raises(ValueError, match="needs conditional=True"):
        replace(VARIANTS["dcgan"], d_head="aux").validate()
    with pytest.raises(ValueError, match="q_restyle needs InfoGAN codes"):
        replace(VARIANTS["dcgan"], q_restyle=True).validate()


def test_recipe_parses_model_names():
    r = recipe("fashion-wgan-gp")
    assert (r.dataset, r.variant) == ("fashion-mnist", "wgan-gp")
    with pytest.raises(ValueError, match="must be"):
        recipe("cifar-dcgan")


@pytest.mark.parametrize(("g_norm", "g_fc"), [("batch", 0), ("virtual", 0), ("batch", 32)])
def test_recalibrated_generator_serves_what_it_trained_on(g_norm, g_fc):
    """The averaged generator never ran a batch: after re-estimation its eval-mode output must match the
    batch statistics it was trained with (for VBN: the reference batch's, exactly), not the initial ones."""
    from training.export import recalibrate_batchnorm
    from training.models import Generator, ModelConfig

    torch.manual_seed(0)
    g = Generator(ModelConfig(g_norm=g_norm, ref_batch=8, g_fc=g_fc))
    for p in g.parameters():  # weights unlike the initial ones, as an EMA generator's are
        p.data.add_(torch.randn_like(p) * 0.3)
    recalibrate_batchnorm(g)
    z = torch.randn(256, 100)
    with torch.no_grad():
        served = g.eval()(z)
        trained = g.train()(z)
    if g_norm == "virtual":
        assert (served - trained).abs().max() < 1e-5
    else:  # 40 batches' average against one batch's statistics
        assert (served - trained).abs().mean() < 0.05
