"""Screenshots of the playground for the docs: docs/playground/<view>.png (desktop) and phone.png.

Starts the real service on exported_models/ and opens each view at a fixed permalink, with
reduced motion so the interpolation animation holds its first frame. Needs Debian's chromium
and the playwright Python package (no browser download). Run: python scripts/screenshots.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script, yet reuse the test harness

import httpx  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.playground.harness import CHROMIUM, CHROMIUM_ARGS, models_dir, serve  # noqa: E402

SHOTS = {  # name: (viewport, permalink fragment with {cond}, {plain}, {info} model names)
    "generate": ((1280, 860), "#generate?model={cond}&seed=2024&n=36&label="),
    "interpolate": ((1280, 860), "#interpolate?model={cond}&seed_a=3&label_a=2&seed_b=8&label_b=7&steps=12"),
    "arithmetic": ((1280, 860), "#arithmetic?model={cond}&label=&t=11,12,13:1:7&t=21,22,23:-1:1&t=31,32,33:1:4"),
    "infogan": ((1280, 860), "#infogan?model={info}&seed=5&cat=&cont="),
    "phone": ((390, 844), "#generate?model={plain}&seed=7&n=16"),
    "translate": ((1280, 860), "#translate?model={translator}&direction=a2b&seed=3"),
    "text2image": ((1280, 860), "#text2image?model={text}&text=a+thick+slanted+seven&seed=1&n=16"),
    "emoji": ((1280, 860), "#generate?model=emoji-cgan&seed=2024&n=36&label="),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "playground")
    parser.add_argument("--only", nargs="*", choices=sorted(SHOTS), help="these screenshots only (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        models_dir() as models,
        tempfile.TemporaryDirectory() as tmp,
        serve(models, Path(tmp) / "server.log") as url,
        sync_playwright() as p,
    ):
        served = httpx.get(f"{url}/models").json()["models"]
        real_first = sorted(  # the MNIST-family models first; the emoji have a shot of their own
            served, key=lambda m: (m["name"].startswith("tiny-"), m["variant"] != "cgan", m["dataset"] == "emoji")
        )
        names = {
            "cond": next(m["name"] for m in real_first if m["conditional"]),
            "plain": next(
                m["name"] for m in real_first if m["kind"] == "generator" and not m["conditional"] and not m["codes"]
            ),
            "info": next(m["name"] for m in real_first if m["codes"]),
            "translator": next((m["name"] for m in served if m["kind"] == "translator"), ""),
            "text": next((m["name"] for m in served if m["kind"] == "text2image"), ""),
        }
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, ((width, height), fragment) in SHOTS.items():
            if args.only and name not in args.only:
                continue
            page = browser.new_page(viewport={"width": width, "height": height}, reduced_motion="reduce")
            page.goto(f"{url}/{fragment.format(**names)}")
            page.wait_for_function("() => document.querySelector('.view:not([hidden])')?.dataset.runs")
            page.wait_for_function("() => [...document.images].every(i => i.complete)")
            page.screenshot(path=str(args.out / f"{name}.png"), full_page=name != "phone")
            page.close()
            print(args.out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
