"""CycleGAN: the domain, a few training steps with resume, export with parity, and the service serving the export."""

from dataclasses import asdict, replace

import numpy as np
import pytest
import torch
from scipy import ndimage

from service.manifest import TranslatorManifest, file_sha256, load_any_manifest
from service.pipelines import load_pipeline, to_model_range
from service.settings import Settings
from training import cyclegan
from training.steprun import same_run


def test_thicken_is_a_3x3_grey_dilation():
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    want = ndimage.grey_dilation(x.numpy(), size=(1, 1, 3, 3), mode="constant", cval=-np.inf)
    assert torch.equal(cyclegan.thicken(x), torch.from_numpy(want))


def test_domains_are_disjoint_halves(data_dir):
    a, b = cyclegan.domains(data_dir, "test", 100)
    assert a.shape == b.shape == (100, 1, 28, 28)
    assert (b.mean() - a.mean()) > 0.1  # B has visibly more ink
    assert not torch.equal(cyclegan.thicken(a), b)  # unpaired: B is not A thickened


def test_translator_shapes():
    g, d = cyclegan.Translator(8, 1), cyclegan.PatchDiscriminator(8)
    x = torch.zeros(3, 1, 28, 28)
    assert g(x).shape == (3, 1, 28, 28) and d(x).shape == (3, 1, 7, 7)


def test_trains_resumes_and_refuses_another_config(tmp_path, data_dir):
    cfg = cyclegan.CycleConfig(name="t-cyclegan", width=8, res_blocks=1, steps=2, batch_size=8, limit=512)
    model = cyclegan.CycleGAN(cfg, tmp_path / "run")
    before = [p.detach().clone() for p in model.nets["a2b"].parameters()]
    model.fit(data_dir)
    assert model.step == 2 and model.checkpoint_path.is_file()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.nets["a2b"].parameters(), strict=True))
    longer = cyclegan.CycleGAN(replace(cfg, steps=3), tmp_path / "run")  # a larger step budget resumes
    assert longer.resume() and longer.step == 2
    longer.fit(data_dir)
    assert longer.step == 3
    with pytest.raises(ValueError, match="another configuration"):
        cyclegan.CycleGAN(replace(cfg, width=16), tmp_path / "run").resume()
    assert not same_run(asdict(cfg), asdict(replace(cfg, lambda_cycle=1.0)))


def test_export_has_parity_and_the_service_serves_it(tmp_path, data_dir):
    cfg = cyclegan.CycleConfig(name="t-cyclegan", width=8, res_blocks=1, steps=1, batch_size=8, limit=512, bank_size=64)
    model = cyclegan.CycleGAN(cfg, tmp_path / "run")
    model.fit(data_dir)
    manifest = cyclegan.CycleGAN.export_run(model.checkpoint_path, data_dir, tmp_path / "models")
    folder = tmp_path / "models" / "t-cyclegan"
    m = load_any_manifest(folder)
    assert isinstance(m, TranslatorManifest) and set(m.directions) == {"a2b", "b2a"}
    for d in manifest["directions"].values():
        assert d["parity_max_abs_diff"] <= 1e-4
    for name, digest in m.files():
        assert file_sha256(folder / name) == digest
    assert {"cycle_l1_a", "cycle_l1_b", "a2b_l1_to_dilation"} <= set(m.metrics)
    assert 0 <= m.metrics["cycle_l1_a"] <= 1
    served = load_pipeline(folder, m, Settings(threads=1))
    bank = served.directions["a2b"].bank
    assert bank.shape == (64, 28, 28) and bank.dtype == np.uint8
    nets, _ = cyclegan.load(model.checkpoint_path)
    source = to_model_range(bank[:4])
    with torch.no_grad():
        want = nets["a2b"](torch.from_numpy(source)).numpy()
    np.testing.assert_allclose(served.directions["a2b"].runner.run({"source": source}), want, atol=1e-4)
