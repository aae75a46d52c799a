"""The committed generators: files match their manifests, run on ONNX Runtime and meet the quality bars."""

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

import scripts.models_table as models_table
from service.manifest import TextToImageManifest, TranslatorManifest, file_sha256, load_any_manifest, load_manifest
from training.config import DEFAULT_EMA_DECAY
from training.recipes import COMMITTED, QUALITY_BARS, recipe

MODELS_DIR = Path(__file__).resolve().parents[2] / "exported_models"
ALL_FOLDERS = sorted(p.parent for p in MODELS_DIR.glob("*/manifest.json"))


def _kind(folder: Path) -> str:
    return json.loads((folder / "manifest.json").read_text()).get("kind", "generator")


FOLDERS = [f for f in ALL_FOLDERS if _kind(f) == "generator"]  # the latent generators of training/recipes.py
PIPELINE_FOLDERS = [f for f in ALL_FOLDERS if _kind(f) != "generator"]  # CycleGAN, StackGAN (issue #9)
PIPELINES = {"mnist-cyclegan": "translator", "mnist-stackgan": "text2image"}
MAX_ONNX_BYTES = 8 * 1024 * 1024


def test_models_are_committed():
    assert FOLDERS, "exported_models/ holds no model"
    assert {f.name for f in FOLDERS} <= set(COMMITTED)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_model_matches_manifest_and_runs(folder):
    m = load_manifest(folder)
    onnx_path = folder / m.file
    assert file_sha256(onnx_path) == m.sha256
    assert onnx_path.stat().st_size <= MAX_ONNX_BYTES
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    declared = {t.name: t for t in m.inputs}
    assert {i.name for i in session.get_inputs()} == set(declared)
    rng = np.random.default_rng(0)
    feeds = {}
    for i in session.get_inputs():
        shape = [5 if isinstance(d, str) else d for d in declared[i.name].shape]
        assert i.shape[1:] == shape[1:]
        if declared[i.name].dtype == "int64":
            feeds[i.name] = rng.integers(2, size=shape).astype(np.int64)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    (image,) = session.run(["image"], feeds)
    assert image.shape == (5, m.image.channels, m.image.height, m.image.width)
    assert image.min() >= -1 - 1e-6 and image.max() <= 1 + 1e-6 and image.std() > 0.1  # tanh, within rounding
    with Image.open(folder / "samples.png") as grid:
        assert grid.mode == ("L" if m.image.channels == 1 else "RGB") and grid.width > 8 * m.image.width


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_recipe_declares_the_committed_variant(folder):
    """`python -m training train NAME` trains what was committed: the recipe's variant, with its per-model
    overrides, is the one the manifest records (fields declared since it was trained take their defaults), and so
    are its rate schedule and weight average."""
    training = json.loads((folder / "manifest.json").read_text())["training"]
    r = recipe(folder.name)
    assert r.declared_variant().changes_from(training["variant"]) == {}
    # older exports: the defaults
    recorded = (training.get("decay_epochs", 0), training.get("ema_decay", DEFAULT_EMA_DECAY))
    assert recorded == (r.decay_epochs, r.ema_decay)


def manifests() -> dict[str, dict]:
    return {f.name: json.loads((f / "manifest.json").read_text()) for f in FOLDERS}


# Bars a committed model is known to miss, as "model:metric" → why, tracked here until a retrained model replaces
# it; strict, so a model that reaches its bar makes this list fail until it is updated.
BELOW_BAR: dict[str, str] = {
    "fashion-vanilla:recall": "0.33 after 86 epochs (FID 88, precision 0.88; 0.28 after issue #19's 36, 0.11 as first"
    " declared, 0.20 with 32 minibatch kernels): the MLP's items crowd together in the classifier's features. 100"
    " kernels, a D four times as wide and a weight average of decay 1 - 1/3,000 (its warm-up reaches that 3,000-step"
    " horizon only at step 26,990 of the 66,143 behind the exported weights) raised it to 0.28, the longer run to 0.33;"
    " a mode-seeking term, an R1 penalty, a gradient penalty, spectral norm, PacGAN's packs, feature matching,"
    " historical averaging, other rates, betas, D steps and a wider G each left it under 0.3 (recipes.py). On this"
    " scale real images with faint noise sit at FID 137 and recall 0.28, and none with a flaw over FID 73 keeps 0.6"
    " (docs/MODELS.md)",
    # Issue #38 raised the bars. Its sessions retrained mnist-acgan, mnist-cgan, fashion-cgan, mnist-vanilla and
    # mnist-wgan-gp (which now meet them), fashion-wgan-gp (its FID and recall now meet them) and fashion-vanilla (its
    # FID now meets it); the others were not retrained.
    # Measured with 10,000 samples against the test split (MODELS.md).
    "fashion-vanilla:class_max_min": "1.70 after 86 epochs (1.71 after 36), the validation FID no lower for 9 epochs"
    " (102.9 at 77, 105-108.5 to 86) where the run stopped for the session's time",
    "fashion-dcgan:class_max_min": "1.54 (FID 16.8, recall 0.70): issue #19's recipe, under whose bars Fashion had no"
    " class balance bar; not retrained",
    "fashion-wgan-gp:class_max_min": "1.69 after 28 epochs at a constant rate (FID 18.2, recall 0.71; 1.80 after 15):"
    " the validation FID levelled out near 24 over epochs 25-28, where the run stopped for the session's time",
}


def bar_params() -> list:
    """Every (model, bar) of training/recipes.py, each known gap a strict expected failure with its reason."""
    params = []
    for name, bars in sorted(QUALITY_BARS.items()):
        for bar in bars:
            key = f"{name}:{bar.metric}"
            marks = [pytest.mark.xfail(reason=BELOW_BAR[key], strict=True)] if key in BELOW_BAR else []
            params.append(pytest.param(name, bar, id=key, marks=marks))
    return params


def test_known_gaps_name_real_bars():
    keys = {f"{name}:{bar.metric}" for name, bars in QUALITY_BARS.items() for bar in bars}
    assert set(BELOW_BAR) <= keys


def test_known_gaps_state_the_weight_average_they_ran():
    """A reason that credits a weight average names the step its warm-up reaches the recipe's horizon (the
    trainer's decay (1+step)/(10+step) until ema_decay) and the step the exported weights come from."""
    for key, reason in BELOW_BAR.items():
        name = key.split(":")[0]
        if "weight average" not in reason:
            continue
        decay = recipe(name).ema_decay
        horizon = round(1 / (1 - decay))
        reached = next(s for s in range(10 * horizon) if (1 + s) / (10 + s) >= decay)
        selected = manifests()[name]["training"]["selected"]["step"]
        assert f"1/{horizon:,}" in reason and f"step {reached:,} of the {selected:,}" in reason, reason


@pytest.mark.parametrize(("name", "bar"), bar_params())
def test_quality_bar(name, bar):
    ms = manifests()
    if name not in ms:
        pytest.fail(f"{name} is not committed")
    measured = ms[name]["metrics"].get(bar.metric)
    assert measured is not None, f"{name}: {bar.metric} was never measured (python -m training evaluate {name})"
    assert bar.met(measured), f"{name}: {bar.metric} {measured} not {bar}"


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_model_is_evaluated(folder):
    metrics = json.loads((folder / "manifest.json").read_text())["metrics"]
    assert {"fid", "fid_floor", "samples"} <= set(metrics), f"{folder.name} was never evaluated"


def test_every_folder_is_a_known_kind():
    assert {f.name for f in PIPELINE_FOLDERS} <= set(PIPELINES)
    assert all(_kind(f) == PIPELINES[f.name] for f in PIPELINE_FOLDERS)


def _feeds(session: ort.InferenceSession, declared: dict, rows: int = 5) -> dict[str, np.ndarray]:
    """Random inputs of the declared shapes (the batch axis `rows`); int64 inputs are valid token ids."""
    rng = np.random.default_rng(0)
    feeds = {}
    for i in session.get_inputs():
        shape = [rows if isinstance(d, str) else d for d in declared[i.name].shape]
        assert i.shape[1:] == shape[1:]
        if declared[i.name].dtype == "int64":
            feeds[i.name] = rng.integers(1, 5, size=shape).astype(np.int64)
        else:
            feeds[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    return feeds


@pytest.mark.parametrize("folder", PIPELINE_FOLDERS, ids=lambda p: p.name)
def test_pipeline_matches_manifest_and_runs(folder):
    m = load_any_manifest(folder)
    assert isinstance(m, TranslatorManifest | TextToImageManifest)
    for name, digest in m.files():
        assert file_sha256(folder / name) == digest, name
        assert (folder / name).stat().st_size <= MAX_ONNX_BYTES
    graphs = [folder / f for f, _ in m.files() if f.endswith(".onnx")]
    assert len(graphs) == (2 if isinstance(m, TranslatorManifest) else 1)
    for path in graphs:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        declared = {t.name: t for t in m.inputs}
        assert {i.name for i in session.get_inputs()} == set(declared)
        image = session.run(["image"], _feeds(session, declared))[0]
        assert image.shape == (5, m.image.channels, m.image.height, m.image.width)
        assert image.min() >= -1 - 1e-6 and image.max() <= 1 + 1e-6 and image.std() > 0.1
    with Image.open(folder / "samples.png") as grid:
        assert grid.mode == ("L" if m.image.channels == 1 else "RGB") and grid.width > 8 * m.image.width
    if isinstance(m, TranslatorManifest):
        for d in m.directions.values():
            bank = np.load(folder / d.bank)
            assert bank.dtype == np.uint8 and bank.shape[1:] == (28, 28) and len(bank) >= 64


# What "works" means for each, measured at export on the test split (docs/MODELS.md explains the figures).
PIPELINE_BARS = {
    "mnist-cyclegan": {
        "cycle_l1_a": ("<=", 0.03),
        "cycle_l1_b": ("<=", 0.03),
        "a2b_l1_to_dilation": ("<=", 0.1),
        "digit_kept_a2b": (">=", 0.9),
        "digit_kept_b2a": (">=", 0.9),
    },
    "mnist-stackgan": {
        "class_accuracy": (">=", 0.9),
        "thickness_correlation": (">=", 0.8),
        "slant_correlation": (">=", 0.8),
        "size_correlation": (">=", 0.6),
    },
}


@pytest.mark.parametrize("folder", PIPELINE_FOLDERS, ids=lambda p: p.name)
def test_pipeline_quality_bar(folder):
    metrics = json.loads((folder / "manifest.json").read_text())["metrics"]
    for key, (op, bar) in PIPELINE_BARS[folder.name].items():
        ok = metrics[key] <= bar if op == "<=" else metrics[key] >= bar
        assert ok, f"{folder.name}: {key} {metrics[key]} not {op} {bar}"


# Issue #24: one continuous code of mnist-infogan controls slant, another width (|r| over c in [-1, 1], each attribute
# z-scored within its categorical value: training/metrics.py code_attributes).
CODE_BARS = {"slant": 0.8, "width": 0.6}
CODE_GAPS: dict[str, str] = {}  # attribute -> why the committed model misses its bar (none does)


@pytest.mark.parametrize(
    "attribute",
    [
        pytest.param(a, marks=[pytest.mark.xfail(reason=CODE_GAPS[a], strict=True)] if a in CODE_GAPS else [])
        for a in CODE_BARS
    ],
)
def test_infogan_codes_control_slant_and_width(attribute):
    m = manifests()["mnist-infogan"]
    best = {a: max(m["code_attributes"], key=lambda c: abs(m["code_attributes"][c][a])) for a in CODE_BARS}
    assert best["slant"] != best["width"], "slant and width must be two different codes"
    assert abs(m["code_attributes"][best[attribute]][attribute]) >= CODE_BARS[attribute]


def test_readme_table_is_the_manifests():
    """The README's model table is what scripts/models_table.py prints from the committed manifests."""
    readme = (MODELS_DIR.parent / "README.md").read_text()
    assert "\n".join(models_table.table()) in readme, "run python -m scripts.models_table and paste it in README.md"
