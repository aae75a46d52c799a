"""Every registered variant trains a few steps on a 512-image slice, exports, passes parity, writes a valid manifest."""

import json
from dataclasses import replace

import numpy as np
import onnxruntime as ort
import pytest
import torch

from service.manifest import Manifest
from training.config import TrainConfig
from training.export import export
from training.recipes import recipe
from training.trainer import Trainer
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
        val_samples=256,
        calibration_batches=2,
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
        accuracy = m.metrics["sgan_test_accuracy"]  # read on the first 512 test images, as many as it trained on
        assert 0.0 <= accuracy <= 1.0 and accuracy * 512 == pytest.approx(round(accuracy * 512), abs=1e-6)


@pytest.mark.parametrize("decay_epochs", [0, 2])
def test_resume_continues_exactly(tmp_path, data_dir, decay_epochs):
    """Two sittings of 2 steps end with the same weights as one sitting of 4, learning rates decaying or not."""

    def run(max_steps, folder, resume):
        cfg = TrainConfig(
            model="r",
            variant="dcgan",
            limit=512,
            max_steps=max_steps,
            epochs=2,
            decay_epochs=decay_epochs,
            data_dir=str(data_dir),
            runs_dir=str(folder),
            val_samples=0,
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


def test_q_reads_the_codes_by_parity_from_its_epoch_on(tmp_path, data_dir):
    """Before q_parity_epoch a run trains exactly as one without parity; from it on, the reading changes G."""

    def weights(**overrides):
        cfg = TrainConfig(
            model="p",
            variant="infogan",
            limit=512,
            max_steps=2,
            epochs=2,
            data_dir=str(data_dir),
            val_samples=0,
            runs_dir=str(tmp_path / str(len(list(tmp_path.iterdir())))),
        )
        t = Trainer(cfg, variant=VARIANTS["infogan"].with_overrides(overrides))
        t.fit()
        return list(t.G.state_dict().values())

    plain = weights(q_parity=())
    parity = ("mirror-odd", "transpose-odd")
    for a, b in zip(plain, weights(q_parity=parity, q_parity_epoch=1.0), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    now = weights(q_parity=parity, q_parity_epoch=0.0)
    assert any(not torch.equal(a, b) for a, b in zip(plain, now, strict=True))


def test_learning_rates_fall_to_zero_over_the_last_decay_epochs(tmp_path, data_dir):
    cfg = TrainConfig(
        model="d", limit=512, epochs=4, decay_epochs=2, data_dir=str(data_dir), runs_dir=str(tmp_path), val_samples=0
    )
    t = Trainer(cfg)
    per_epoch, v = t.batches_per_epoch(), t.variant
    seen = []
    for epoch in (0, 2, 3, 3.875):
        t.iteration = int(epoch * per_epoch)
        t.set_learning_rates()
        seen += [t.opt_g.param_groups[0]["lr"] / v.lr_g, t.opt_d.param_groups[0]["lr"] / v.lr_d]
    # G's and D's factor per epoch, flat: pytest 9.2's approx refuses nested sequences (a TypeError).
    assert seen == pytest.approx([1, 1, 1, 1, 0.5, 0.5, 0.0625, 0.0625])
    assert recipe("fashion-dcgan").decay_epochs > 0 and recipe("mnist-dcgan").decay_epochs == 0


def test_staggered_codes_join_one_at_a_time(tmp_path, data_dir):
    """With code_stagger_epochs, InfoGAN's second continuous code stays 0 until its epoch, then is drawn."""
    cfg = TrainConfig(
        model="s", variant="infogan", limit=512, data_dir=str(data_dir), runs_dir=str(tmp_path), val_samples=0
    )
    t = Trainer(cfg, VARIANTS["infogan"].with_overrides({"code_stagger_epochs": 1.5}))
    first = t.sample_inputs(256)["c_cont"]
    assert first[:, 1].abs().max() == 0 and first[:, 0].abs().min() > 0
    t.iteration = int(1.5 * t.batches_per_epoch())
    later = t.sample_inputs(256)["c_cont"]
    assert later[:, 1].abs().min() > 0 and later.min() >= -1 and later.max() <= 1
    with pytest.raises(ValueError, match="code_stagger_epochs need InfoGAN codes"):
        VARIANTS["dcgan"].with_overrides({"code_stagger_epochs": 1.0})


def test_resume_refuses_another_declaration_and_reads_older_checkpoints(tmp_path, data_dir):
    """A checkpoint resumes only under the variant it was trained with; a field added since takes its default
    and one removed since is not compared, so checkpoints outlive changes to the declaration language."""
    cfg = TrainConfig(model="v", limit=512, max_steps=1, data_dir=str(data_dir), runs_dir=str(tmp_path), val_samples=0)
    Trainer(cfg).fit()
    with pytest.raises(ValueError, match="another variant configuration"):
        Trainer(cfg, replace(VARIANTS["dcgan"], n_critic=2)).resume()
    state = torch.load(cfg.run_dir / "checkpoint.pt", weights_only=False)
    del state["variant"]["d_layers"]
    state["variant"]["a_removed_field"] = (1, 2)
    torch.save(state, cfg.run_dir / "checkpoint.pt")
    assert Trainer(cfg).resume()


def test_validate_names_what_to_change():
    with pytest.raises(ValueError, match="gradient penalty needs d_norm"):
        replace(VARIANTS["dcgan"], gp_weight=10.0).validate()
    with pytest.raises(ValueError, match="unknown variant field"):
        VARIANTS["dcgan"].with_overrides({"lr": 1.0})
    with pytest.raises(ValueError, match="needs conditional=True"):
        replace(VARIANTS["dcgan"], d_head="aux").validate()
    for switch, value in (("q_restyle", True), ("q_std", True), ("q_parity", ("mirror-odd",))):
        with pytest.raises(ValueError, match="q_restyle, q_std, q_parity and code_stagger_epochs need InfoGAN codes"):
            replace(VARIANTS["dcgan"], **{switch: value}).validate()
    with pytest.raises(ValueError, match="q_parity symmetrises Q's means only"):
        replace(VARIANTS["infogan"], q_parity=("mirror-odd", ""), q_std=True).validate()
    for parity in (("mirror-odd",), ("mirror-odd", "rotate-odd")):
        with pytest.raises(ValueError, match="q_parity needs one entry per continuous code"):
            replace(VARIANTS["infogan"], q_parity=parity).validate()
    with pytest.raises(ValueError, match="d_layers need arch 'conv'"):
        replace(VARIANTS["vanilla"], d_layers=3).validate()


@pytest.mark.parametrize(
    ("d_layers", "size", "features"), [(2, 28, 128 * 7 * 7), (3, 28, 256 * 4 * 4), (3, 32, 256 * 4 * 4)]
)
def test_critic_depth_sets_its_feature_map(d_layers, size, features):
    """Each convolution beyond the second halves the map, rounding up (7 → 4), and doubles the channels."""
    from training.models import Discriminator, ModelConfig

    d = Discriminator(ModelConfig(size=size, d_layers=d_layers, d_norm="layer"))
    out = d(torch.randn(2, 1, size, size))
    assert out["features"].shape == (2, features) and out["adv"].shape == (2,)


def test_recipe_parses_model_names():
    r = recipe("fashion-wgan-gp")
    assert (r.dataset, r.variant) == ("fashion-mnist", "wgan-gp")
    with pytest.raises(ValueError, match="must be"):
        recipe("cifar-dcgan")


@pytest.mark.parametrize(("g_norm", "g_fc"), [("batch", 0), ("virtual", 0), ("batch", 32)])
def test_recalibrated_generator_serves_what_it_trained_on(g_norm, g_fc):
    """The averaged generator never ran a batch: after re-estimation its eval-mode output must match the
    batch statistics it was trained with (for VBN: the reference batch's, exactly), not the initial ones."""
    from training.config import DEFAULT_CALIBRATION_BATCHES
    from training.export import recalibrate_batchnorm
    from training.models import Generator, ModelConfig

    torch.manual_seed(0)
    g = Generator(ModelConfig(g_norm=g_norm, ref_batch=8, g_fc=g_fc))
    for p in g.parameters():  # weights unlike the initial ones, as an EMA generator's are
        p.data.add_(torch.randn_like(p) * 0.3)
    recalibrate_batchnorm(g, DEFAULT_CALIBRATION_BATCHES)
    z = torch.randn(256, 100)
    with torch.no_grad():
        served = g.eval()(z)
        trained = g.train()(z)
    if g_norm == "virtual":
        assert (served - trained).abs().max() < 1e-5
    else:  # 40 batches' average against one batch's statistics
        assert (served - trained).abs().mean() < 0.05
