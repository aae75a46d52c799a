"""Manifests and model loading on tiny ONNX generators (no HTTP)."""

import json
import shutil

import numpy as np
import pytest
from pydantic import ValidationError

from service.errors import InputError
from service.manifest import Manifest, load_any_manifest, load_manifest
from service.registry import CPU, ModelLoadError, batch_invariant, discover, discover_all, load_model
from service.settings import Settings

from .conftest import EXPORTED, write_tiny_model

SETTINGS = Settings(_env_file=None, max_batch=8, threads=1, provider="auto")


def _load(folder, **kw):
    return load_model(folder, load_manifest(folder), SETTINGS.model_copy(update=kw))


def test_tiny_manifests_validate(tiny_models_dir):
    found, failed = discover(tiny_models_dir)
    assert not failed and [m.name for _, m in found] == ["tiny-cgan", "tiny-dcgan", "tiny-infogan", "tiny-rgb"]


@pytest.mark.parametrize("folder", sorted(p.parent for p in EXPORTED.glob("*/manifest.json")), ids=lambda p: p.name)
def test_exported_manifests_validate(folder):
    m = load_any_manifest(folder)
    assert m.name and m.kind == json.loads((folder / "manifest.json").read_text()).get("kind", "generator")
    if m.kind == "generator":
        assert load_manifest(folder) == m


def test_discover_keeps_generators_and_discover_all_every_kind(tmp_path):
    for folder in sorted(p.parent for p in EXPORTED.glob("*/manifest.json")):
        (tmp_path / folder.name).symlink_to(folder, target_is_directory=True)
    generators, failed = discover(tmp_path)
    everything, failed_all = discover_all(tmp_path)
    assert not failed and not failed_all and all(m.kind == "generator" for _, m in generators)
    assert {m.kind for _, m in everything} - {"generator"} <= {"translator", "text2image"}
    assert len(everything) - len(generators) == sum(m.kind != "generator" for _, m in everything)
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "manifest.json").write_text('{"name": "odd", "kind": "painter"}')
    assert "kind" in discover(tmp_path)[1]["odd"] and "painter" in discover_all(tmp_path)[1]["odd"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"conditional": True}, "num_classes"),
        ({"inputs": [{"name": "z", "dtype": "float32", "shape": ["N", 9]}]}, "inputs"),
        ({"outputs": [{"name": "image", "dtype": "float32", "shape": ["N", 3, 8, 8]}]}, "outputs"),
        ({"sha256": "xyz"}, "sha256"),
        ({"file": "../model.onnx"}, "file"),
        ({"label_blend": True}, "label_blend"),
    ],
)
def test_inconsistent_manifests_are_rejected(tiny_models_dir, change, field):
    data = json.loads((tiny_models_dir / "tiny-dcgan" / "manifest.json").read_text()) | change
    with pytest.raises(ValidationError) as err:
        Manifest.model_validate(data)
    assert field in str(err.value)


def test_load_picks_cpu_quietly_and_is_batch_invariant(tiny_models_dir, capfd):
    model = _load(tiny_models_dir / "tiny-infogan")
    assert model.provider == CPU and model.batch_shapes == "dynamic" and model.buckets is None
    assert batch_invariant(model)
    captured = capfd.readouterr()
    assert "onnxruntime" not in captured.err.lower() and "error" not in captured.err.lower()


def test_forced_cpu_and_fixed_shapes(tiny_models_dir):
    model = _load(tiny_models_dir / "tiny-dcgan", provider="cpu", batch_shapes="fixed")
    assert model.provider == CPU and model.batch_shapes == "fixed" and model.buckets == (8,)


def test_a_wrong_checksum_is_not_served(tmp_path):
    folder = write_tiny_model(tmp_path, "bad", corrupt=True)
    with pytest.raises(ModelLoadError, match="sha256"):
        _load(folder)


def test_a_graph_that_differs_from_its_manifest_is_not_served(tmp_path, tiny_models_dir):
    folder = tmp_path / "swapped"
    shutil.copytree(tiny_models_dir / "tiny-dcgan", folder)
    shutil.copy(tiny_models_dir / "tiny-cgan" / "model.onnx", folder / "model.onnx")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["sha256"] = json.loads((tiny_models_dir / "tiny-cgan" / "manifest.json").read_text())["sha256"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match="inputs"):
        _load(folder)


def test_feeds_and_labels(tiny_models_dir):
    model = _load(tiny_models_dir / "tiny-cgan")
    assert model.resolve_label("c3", "label") == 3 and model.resolve_label(9, "label") == 9
    for bad in (10, -1, "3", "c10"):
        with pytest.raises(InputError) as err:
            model.resolve_label(bad, "label_b")
        assert err.value.field == "label_b"
    draws = [model.draw(s) for s in (1, 2, 3)]
    feeds = model.feeds_for(draws, label=4)
    assert feeds["z"].shape == (3, 8) and feeds["label"].tolist() == [4, 4, 4]
    assert model.feeds_for(draws)["label"].tolist() == [d.label for d in draws]
    assert model.run(feeds).shape == (3, 1, 8, 8)
    assert model.frame_label(1, 2, 0.49) == 1 and model.frame_label(1, 2, 0.5) == 2


def test_unconditional_models_take_no_label(tiny_models_dir):
    model = _load(tiny_models_dir / "tiny-dcgan")
    with pytest.raises(InputError, match="unconditional"):
        model.resolve_label(0, "label")
    out = model.run(model.feeds_for([model.draw(0)]))
    assert out.shape == (1, 1, 8, 8) and np.all(np.abs(out) <= 1)


def test_label_blend_models_take_class_mixtures(tmp_path):
    model = _load(write_tiny_model(tmp_path, "blend", num_classes=4, blend=True))
    assert model.manifest.label_blend
    mid = model.frame_label(1, 3, 0.25)
    assert isinstance(mid, np.ndarray) and mid.tolist() == [0.0, 0.75, 0.0, 0.25]
    feeds = model.feeds([model.draw(0).z] * 2, [2, mid])
    assert feeds["label"].dtype == np.float32 and feeds["label"][0].tolist() == [0, 0, 1, 0]
    out = model.run(feeds)
    assert out.shape == (2, 1, 8, 8)
    first = model.feeds_for([model.draw(0)], label=1)
    assert np.array_equal(
        model.run(first)[0], model.run(model.feeds([model.draw(0).z], [model.frame_label(1, 3, 0.0)]))[0]
    )
