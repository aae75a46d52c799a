"""Manifests and model loading on tiny ONNX generators (no HTTP)."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from service.errors import InputError
from service.manifest import Manifest, load_any_manifest, load_manifest
from service.proof import prove_identity, settle_batch_shapes
from service.registry import discover, discover_all, identity_feeds, load_model
from service.sessions import CPU, ModelLoadError
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
        ({"codes": {"categorical": [10], "continuous": 2, "continuous_meaning": [None]}}, "continuous_meaning"),
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
    assert model.session.get_session_options().use_deterministic_compute
    proof = model.identity
    assert (proof.shapes, proof.max_batch, proof.passes, proof.identical) == ("dynamic", 8, 2, True)
    assert 0 < proof.seconds < 60
    captured = capfd.readouterr()
    assert "onnxruntime" not in captured.err.lower() and "error" not in captured.err.lower()


def test_forced_cpu_and_fixed_shapes(tiny_models_dir):
    model = _load(tiny_models_dir / "tiny-dcgan", provider="cpu", batch_shapes="fixed")
    assert model.provider == CPU and model.batch_shapes == "fixed" and model.buckets == (8,)
    assert (model.identity.shapes, model.identity.max_batch, model.identity.identical) == ("fixed", 8, True)


class Perturbed:
    """A real model's run whose output changes by one float32 step at one batch size, or from one run to
    the next: what a kernel chosen per shape, or a non-deterministic one, would do."""

    def __init__(self, run, at_size: int | None = None, every_other_run: bool = False) -> None:
        self.run, self.at_size, self.every_other_run, self.runs = run, at_size, every_other_run, 0

    def __call__(self, feeds):
        self.runs += 1
        out = self.run(feeds)
        if len(out) == self.at_size or (self.every_other_run and self.runs % 2 == 0):
            out = np.nextafter(out, np.float32(2))
        return out


def test_the_proof_covers_every_batch_size_and_a_second_pass(tiny_models_dir):
    model = _load(tiny_models_dir / "tiny-cgan", max_batch=64)
    feeds = identity_feeds(model, 64)
    assert prove_identity(model.run, feeds, 64)
    assert not prove_identity(Perturbed(model.run, at_size=37), feeds, 64)  # not one of 1, 4 and 5
    assert not prove_identity(Perturbed(model.run, every_other_run=True), feeds, 64)


def test_the_fixed_shape_fallback_is_proven_the_same_way(tiny_models_dir):
    model = _load(tiny_models_dir / "tiny-cgan", max_batch=64)
    feeds, settings = identity_feeds(model, 64), SETTINGS.model_copy(update={"max_batch": 64})
    shapes = settle_batch_shapes("m", Perturbed(model.run, at_size=37), feeds, settings)
    assert (shapes.batch_shapes, shapes.buckets) == ("fixed", (64,))
    assert (shapes.proof.shapes, shapes.proof.max_batch, shapes.proof.identical) == ("fixed", 64, True)
    with pytest.raises(ModelLoadError, match="not deterministic"):
        settle_batch_shapes("m", Perturbed(model.run, every_other_run=True), feeds, settings)


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


def test_graphs_opened_side_by_side_print_nothing_where_cuda_is_absent():
    """Graphs load in parallel threads and each may try CUDA with ORT silenced; ORT's log level is process-wide,
    so one thread's probe ending once unsilenced another's, which printed the CUDA library's load error."""
    code = (
        "import sys, threading\n"
        "from pathlib import Path\n"
        "from service.sessions import create_session\n"
        "from service.settings import Settings\n"
        "s = Settings(_env_file=None, threads=1, provider='auto')\n"
        "ts = [threading.Thread(target=create_session, args=(Path(p), s)) for p in sys.argv[1:]]\n"
        "[t.start() for t in ts]\n"
        "[t.join() for t in ts]\n"
    )
    graphs = sorted(str(p) for p in EXPORTED.glob("*/*.onnx"))[:8]
    assert len(graphs) == 8
    for _ in range(3):  # the old race printed on most runs of 8 threads
        run = subprocess.run([sys.executable, "-c", code, *graphs], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and run.stdout + run.stderr == "", run.stderr[-2000:]
