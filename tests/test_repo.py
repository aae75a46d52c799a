"""The repository's own promises: build outputs stay untracked, the HTTP contract documents every setting under
headings a link can tell apart, docs/examples/ holds the real test-split images its names say, and the test
command runs on every core."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from service.settings import Settings

REPO = Path(__file__).resolve().parents[1]
API_MD = REPO / "docs" / "API.md"
EXAMPLES = REPO / "docs" / "examples"


@pytest.mark.parametrize("path", ["build/lib/service/app.py", "dist/x.whl", "gan_sampling_service.egg-info/PKG-INFO"])
def test_build_outputs_are_ignored(path: str):
    """`pip install .` and `python -m build` write these; `git status` must stay clean after them."""
    assert subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0, path


def test_api_md_headings_are_unique():
    headings = re.findall(r"^#+ (.+)$", API_MD.read_text(), re.M)
    assert len(headings) == len(set(headings)), sorted(h for h in headings if headings.count(h) > 1)


def test_every_setting_is_in_the_settings_table_with_its_default():
    text = API_MD.read_text()
    table = text[text.index("## Settings (environment)") :].split("\n\n")[0]
    rows = {m[0]: m[1] for m in re.findall(r"^\| (.+?) \| (.+?) \|", table, re.M)}
    documented = {var: default for cell, default in rows.items() for var in re.findall(r"`(GAN_\w+)`", cell)}
    for name in Settings.model_fields:
        assert f"GAN_{name.upper()}" in documented, f"GAN_{name.upper()} is not in docs/API.md's settings table"
    assert documented["GAN_DEFAULT_MODEL"] == f"`{Settings.model_fields['default_model'].default}`"


def test_docs_examples_are_the_test_split_images_their_names_say(tmp_path: Path):
    from training.data import DATASETS, load_split

    spec = importlib.util.spec_from_file_location("examples", REPO / "scripts" / "examples.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(["--out", str(tmp_path)])  # what the script writes now is what is committed
    assert sorted(p.name for p in EXAMPLES.iterdir()) == sorted(script.EXAMPLES)
    for name, (dataset, index) in script.EXAMPLES.items():
        committed = Image.open(EXAMPLES / name)
        assert committed.mode == "L" and committed.size == (28, 28) and (EXAMPLES / name).stat().st_size < 1024
        assert np.array_equal(np.asarray(committed), np.asarray(Image.open(tmp_path / name)))
        _, labels = load_split(REPO.parent / "shared" / "data", dataset, "test")
        label = DATASETS[dataset].class_names[labels[index]].lower().replace(" ", "-")
        assert name == (f"digit-{label}.png" if dataset == "mnist" else f"fashion-{label}.png")


def test_the_test_command_runs_on_every_core_and_names_its_slowest_tests():
    """README: both test commands spread the tests over every core and print the 20 slowest."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    addopts = config["tool"]["pytest"]["ini_options"]["addopts"].split()
    assert {"-n", "auto", "--durations=20"} <= set(addopts) and addopts[addopts.index("-n") + 1] == "auto"
    assert any(d.startswith("pytest-xdist") for d in config["project"]["optional-dependencies"]["test"])
    assert importlib.util.find_spec("xdist") is not None


def test_ci_runs_the_readmes_test_command_in_a_fresh_venv():
    """README: `.ci/run` runs the second command as a newcomer would, in a fresh `.venv`: the same install (quietly)
    and the same test command, so CI cannot pass on an install the README does not give."""
    (command,) = [line for line in (REPO / "README.md").read_text().splitlines() if line.endswith("python -m pytest")]
    install = re.search(r"pip install (.+?) && python -m pytest$", command)
    assert install, command
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert "rm -rf .venv && python3 -m venv .venv && . .venv/bin/activate" in ci
    assert f"pip install -q {install[1]}" in ci and ci[-1] == "python -m pytest -q"
