"""A fresh copy of the repository and a fresh virtual environment, for tests that replay what a newcomer or the
image build does: the README's install command, the Dockerfile's RUN steps.

The venv sees the test environment's installed packages: they stand in for PyPI, so `pip install .` builds and
installs the project itself and finds every dependency there, with no network (no index, no build isolation,
which would fetch setuptools). They are the site directories of the interpreter running the tests, added by a
`.pth` file: `--system-site-packages` would add the base interpreter's instead, which are not the test
environment's when that is itself a venv (a newcomer's). Its `pip` is the test environment's pip module run by
the venv's own python, so whatever it installs goes into the venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def checkout(dest: Path) -> Path:
    """The repository's files as a clone would have them (tracked, plus new files not ignored) copied to `dest`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():  # a file deleted but not yet committed is listed too
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def venv(dest: Path) -> dict[str, str]:
    """Create a venv at `dest`; the environment (PATH first) in which `python` and `pip` are the venv's."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True)
    site_dirs = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]
    (own,) = (dest / "lib").glob("python*/site-packages")
    (own / "_test_environment.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in site_dirs))
    pip = dest / "bin" / "pip"
    pip.write_text('#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n')
    pip.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GAN_", "PIP_", "PYTHON"))}
    return env | {
        "PATH": f"{dest / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(dest),
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip reads this one inverted: "0" turns build isolation off
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
