"""The playground in a real browser against the real service.

What a view shows must be exactly what the API returns: each test reads the request the page
shows as curl, sends that same body with httpx, and compares the base64 PNGs byte for byte
with the `src` of the images on the page.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.playground.conftest import PHONE, PageFactory
from tests.playground.harness import EXPORTED, REPO

DATA_PNG = "data:image/png;base64,"
CURL = re.compile(r"^curl -sS -X POST '(?P<url>[^']+)' -H 'Content-Type: application/json' -d '(?P<body>.*)'$")
VIEWS = ("generate", "interpolate", "arithmetic", "infogan")
EXAMPLES = REPO / "docs" / "examples"


# ---------- helpers ----------


def kind(models: dict[str, dict[str, Any]], wanted: str) -> dict[str, Any]:
    """A served model of a kind, real (mnist-*) before tiny."""
    pick = {
        "unconditional": lambda m: m["kind"] == "generator" and not m["conditional"] and not m["codes"],
        "conditional": lambda m: m["conditional"],
        "infogan": lambda m: bool(m["codes"]),
        "translator": lambda m: m["kind"] == "translator",
        "text2image": lambda m: m["kind"] == "text2image",
    }[wanted]
    found = sorted((m for m in models.values() if pick(m)), key=lambda m: m["name"].startswith("tiny-"))
    if not found:
        pytest.skip(f"no {wanted} model served")
    return found[0]


def runs(page: Any, view: str) -> int:
    return int(page.get_attribute(f"#view-{view}", "data-runs") or 0)


def after_run(page: Any, view: str, action: Any) -> None:
    """Do `action`, then wait until `view` has finished one more run (its requests answered and drawn)."""
    before = runs(page, view)
    action()
    page.wait_for_function(
        "([v, n]) => Number(document.querySelector('#view-' + v).dataset.runs || 0) > n", arg=[view, before]
    )


def open_page(page: Any, url: str, fragment: str = "") -> str:
    """Load the page (at a permalink fragment) and wait for the visible view's first run; its name."""
    page.goto(f"{url}/{fragment}")
    page.wait_for_function("() => document.querySelector('.view:not([hidden])')?.dataset.runs")
    return str(page.eval_on_selector(".view:not([hidden])", "s => s.dataset.view"))


def sent(page: Any) -> list[tuple[str, dict[str, Any]]]:
    """(path, body) of every request the page shows as curl."""
    out = []
    for line in page.inner_text("#curl").splitlines():
        m = CURL.match(line)
        assert m, f"not a curl line: {line!r}"
        out.append((httpx.URL(m["url"]).path, json.loads(m["body"].replace("'\\''", "'"))))
    return out


def shown(page: Any, selector: str) -> list[str]:
    srcs = page.eval_on_selector_all(selector, "imgs => imgs.map(i => i.getAttribute('src'))")
    assert srcs and all(s.startswith(DATA_PNG) for s in srcs), srcs
    return [s.removeprefix(DATA_PNG) for s in srcs]


def answer(api: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post(path, json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


# ---------- routes ----------


def test_page_and_static_files(api: httpx.Client) -> None:
    r = api.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js"' in r.text and "Content-Security-Policy" in r.text
    for name, media in [("app.js", "javascript"), ("style.css", "text/css")]:
        r = api.get(f"/static/{name}")
        assert r.status_code == 200 and media in r.headers["content-type"], r.headers
    for bad in ["nope.js", "..%2Fapp.py", "%2E%2E"]:
        assert api.get(f"/static/{bad}").status_code == 404


def test_samples_png(api: httpx.Client, models: dict[str, dict[str, Any]]) -> None:
    for name in models:
        r = api.get(f"/models/{name}/samples.png")
        committed = EXPORTED / name / "samples.png"
        if committed.is_file():
            assert r.status_code == 200 and r.headers["content-type"] == "image/png"
            assert r.content == committed.read_bytes()
        else:
            assert r.status_code == 404 and "samples.png" in r.json()["detail"]
    r = api.get("/models/no-such-model/samples.png")
    assert r.status_code == 404 and "no-such-model" in r.json()["detail"]


# ---------- views ----------


def test_model_card(page: Any, server_url: str, models: dict[str, dict[str, Any]]) -> None:
    open_page(page, server_url)
    for m in models.values():
        page.select_option("#model", m["name"])
        page.wait_for_function("n => document.querySelector('#card-title').textContent.endsWith(n)", arg=m["name"])
        facts = page.inner_text("#card-facts")
        assert m["dataset"] in facts and m["variant"] in facts and m["sha256"][:16] in facts
        metrics = page.inner_text("#card-metrics")
        for key in m["metrics"]:
            assert key.replace("_", " ") in metrics
        if (EXPORTED / m["name"] / "samples.png").is_file():
            page.wait_for_selector("#card-samples:not([hidden])")
            assert page.eval_on_selector("#card-samples", "i => i.naturalWidth") > 0
        else:
            page.wait_for_selector("#card-no-samples:not([hidden])")


def test_generate(page: Any, server_url: str, api: httpx.Client, models: dict[str, dict[str, Any]]) -> None:
    model = kind(models, "conditional")
    open_page(page, server_url, f"#generate?model={model['name']}")
    page.fill("#gen-seed", "123")
    page.select_option("#gen-label", label=model["class_names"][7])
    page.fill("#gen-n", "6")
    after_run(page, "generate", lambda: page.press("#gen-n", "Enter"))
    [(path, body)] = sent(page)
    assert (path, body) == ("/generate", {"model": model["name"], "seed": 123, "n": 6, "label": 7, "format": "json"})
    expected = [im["png"] for im in answer(api, path, body)["images"]]
    assert shown(page, "#view-generate .grid img") == expected
    assert "seed=123" in page.url and "label=7" in page.url


def test_curl_text_runs_as_shown(page: Any, server_url: str, models: dict[str, dict[str, Any]]) -> None:
    if not shutil.which("curl"):
        pytest.skip("no curl")
    open_page(page, server_url, f"#generate?model={kind(models, 'unconditional')['name']}&seed=9&n=3")
    out = subprocess.run(["bash", "-c", page.inner_text("#curl")], capture_output=True, check=True, timeout=30)
    assert [im["png"] for im in json.loads(out.stdout)["images"]] == shown(page, "#view-generate .grid img")


def test_interpolate(page: Any, server_url: str, api: httpx.Client, models: dict[str, dict[str, Any]]) -> None:
    model = kind(models, "conditional")
    open_page(page, server_url, f"#generate?model={model['name']}")
    after_run(page, "interpolate", lambda: page.click("nav >> text=Interpolate"))
    page.fill("#int-seed-a", "11")
    page.fill("#int-seed-b", "22")
    page.select_option("#int-label-a", "3")
    page.select_option("#int-label-b", "8")
    page.fill("#int-steps", "5")
    page.check("input[name=method][value=lerp]")
    after_run(page, "interpolate", lambda: page.press("#int-steps", "Enter"))
    [(path, body)] = sent(page)
    assert body == {
        "model": model["name"],
        "seed_a": 11,
        "seed_b": 22,
        "label_a": 3,
        "label_b": 8,
        "steps": 5,
        "method": "lerp",
        "format": "json",
    }
    frames = [im["png"] for im in answer(api, path, body)["images"]]
    assert shown(page, "#view-interpolate .strip img") == frames
    seen = set()
    for _ in range(12):  # the animation cycles through the frames
        seen.update(shown(page, "#view-interpolate img.anim"))
        page.wait_for_timeout(60)
    assert len(seen) > 2 and seen <= set(frames)
    page.click("#view-interpolate .play")
    assert page.get_attribute("#view-interpolate .play", "aria-pressed") == "false"
    paused = shown(page, "#view-interpolate img.anim")
    page.wait_for_timeout(300)
    assert shown(page, "#view-interpolate img.anim") == paused


def test_arithmetic(page: Any, server_url: str, api: httpx.Client, models: dict[str, dict[str, Any]]) -> None:
    model = kind(models, "conditional")
    open_page(page, server_url, f"#arithmetic?model={model['name']}")
    [(path, body)] = sent(page)  # the example: mean of three 7s − three 1s + three 4s
    assert [(len(t["seeds"]), t["weight"], t["label"]) for t in body["terms"]] == [(3, 1, 7), (3, -1, 1), (3, 1, 4)]
    page.fill("#terms .term:nth-child(2) [data-name=weight]", "-0.5")
    page.fill("#terms .term:nth-child(3) [data-name=seeds]", "5, 6 7")
    after_run(page, "arithmetic", lambda: page.press("#terms .term:nth-child(3) [data-name=seeds]", "Enter"))
    [(path, body)] = sent(page)
    assert body["terms"][1]["weight"] == -0.5 and body["terms"][2]["seeds"] == [5, 6, 7]
    reply = answer(api, path, body)
    assert shown(page, "#view-arithmetic figure img") == [t["png"] for t in reply["terms"]] + [
        reply["images"][0]["png"]
    ]

    weight = "#terms .term:nth-child(1) [data-name=weight]"
    page.fill(weight, "500")  # out of range: the browser stops it before it is sent
    before = runs(page, "arithmetic")
    page.click("#view-arithmetic button[type=submit]")
    assert not page.eval_on_selector(weight, "e => e.validity.valid") and runs(page, "arithmetic") == before
    page.fill(weight, "1")
    page.fill("#terms .term:nth-child(1) [data-name=seeds]", ",".join(map(str, range(17))))
    after_run(page, "arithmetic", lambda: page.click("#view-arithmetic button[type=submit]"))
    assert "terms.0.seeds" in page.inner_text("#view-arithmetic [role=alert]")  # the server's 422, naming the field


def test_infogan(page: Any, server_url: str, api: httpx.Client, models: dict[str, dict[str, Any]]) -> None:
    model = kind(models, "infogan")
    k = model["codes"]["continuous"]
    open_page(page, server_url, f"#infogan?model={model['name']}&seed=5")
    assert len(sent(page)) == 2 + k  # the image, then one sweep row per code
    page.focus("#info-c0")
    after_run(page, "infogan", lambda: [page.keyboard.press("ArrowRight") for _ in range(3)])  # debounced: one run
    after_run(page, "infogan", lambda: page.select_option("#info-cat", "2"))
    requests = sent(page)
    base = requests[0][1]
    assert base["seed"] == 5 and base["categorical"] == 2 and len(base["continuous"]) == k
    assert [b["sweep"]["code"] for _, b in requests[1:]] == ["categorical"] + [f"continuous:{i}" for i in range(k)]
    expected = [im["png"] for path, body in requests for im in answer(api, path, body)["images"]]
    assert shown(page, "#view-infogan .output img") == expected
    assert len(page.query_selector_all("#view-infogan .sweep")) == 1 + k
    # each named code carries its measured meaning beside its slider, over its sweep and in the model card
    names = [
        f"c{i + 1} ≈ {c['attribute']} (r = {c['r']:.2f})"
        for i, c in enumerate(model["codes"]["continuous_meaning"])
        if c
    ]
    assert names, "the committed InfoGAN names its continuous codes"
    for where in ("#info-sliders", "#view-infogan .output", "#card-facts"):
        text = page.inner_text(where)
        assert all(name in text for name in names), (where, names, text)


def test_infogan_view_explains_other_models(page: Any, server_url: str, models: dict[str, dict[str, Any]]) -> None:
    open_page(page, server_url, f"#infogan?model={kind(models, 'unconditional')['name']}")
    assert page.is_visible("#infogan-other") and not page.is_visible("#view-infogan form")
    infogan = [m["name"] for m in models.values() if m["codes"]]
    if infogan:
        after_run(page, "infogan", lambda: page.click(f"#infogan-switch >> text=Use {infogan[0]}"))
        assert page.input_value("#model") == infogan[0] and page.is_visible("#view-infogan form")


# ---------- permalinks, keyboard, phone ----------

PERMALINKS = {
    "generate": "#generate?model={cond}&seed=77&n=4&label=3",
    "interpolate": "#interpolate?model={cond}&seed_a=1&label_a=2&seed_b=3&label_b=&steps=4&method=lerp",
    "arithmetic": "#arithmetic?model={cond}&label=5&t=1,2:1:&t=3:-0.5:4",
    "infogan": "#infogan?model={info}&seed=8&cat=1&cont={cont}",
}


@pytest.mark.parametrize("view", VIEWS)
def test_permalink_restores_state_and_images(
    new_page: PageFactory, server_url: str, models: dict[str, dict[str, Any]], view: str
) -> None:
    names = {"cond": kind(models, "conditional")["name"]}
    if view == "infogan":
        info = kind(models, "infogan")
        names |= {"info": info["name"], "cont": ",".join(["0.5", "-1.5"] + ["0"] * info["codes"]["continuous"])}
        names["cont"] = ",".join(names["cont"].split(",")[: info["codes"]["continuous"]])
    fragment = PERMALINKS[view].format(**names)
    first = new_page()
    assert open_page(first, server_url, fragment) == view
    state = first.evaluate("location.hash")
    images = shown(first, f"#view-{view} .output img:not(.anim)")
    requests = sent(first)
    link = first.get_attribute("#permalink", "href")
    assert link and link.endswith(state)

    again = new_page()
    assert open_page(again, server_url, link.removeprefix(server_url + "/")) == view
    assert again.evaluate("location.hash") == state
    assert sent(again) == requests
    assert shown(again, f"#view-{view} .output img:not(.anim)") == images
    values = "els => els.filter(e => e.type !== 'radio' || e.checked).map(e => [e.name || e.dataset.name, e.value])"
    assert again.eval_on_selector_all(f"#view-{view} form [name], #view-{view} form [data-name]", values) == (
        first.eval_on_selector_all(f"#view-{view} form [name], #view-{view} form [data-name]", values)
    )


def test_back_button_restores_previous_view(page: Any, server_url: str, models: dict[str, dict[str, Any]]) -> None:
    open_page(page, server_url, f"#generate?model={kind(models, 'conditional')['name']}&seed=5&n=2")
    after_run(page, "interpolate", lambda: page.click("nav >> text=Interpolate"))
    after_run(page, "generate", page.go_back)
    assert page.is_visible("#view-generate") and page.input_value("#gen-seed") == "5"


def test_keyboard_only(page: Any, server_url: str, models: dict[str, dict[str, Any]]) -> None:
    model = kind(models, "unconditional")
    open_page(page, server_url, f"#generate?model={model['name']}&seed=1&n=4")

    def tab_to(selector: str, key: str = "Tab") -> None:
        for _ in range(40):
            page.keyboard.press(key)
            if page.evaluate("s => document.activeElement.matches(s)", selector):
                style = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
                assert style != "none", f"no visible focus on {selector}"
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#gen-seed")
    page.keyboard.press("Control+a")
    page.keyboard.type("4242")
    after_run(page, "generate", lambda: page.keyboard.press("Enter"))
    assert sent(page)[0][1]["seed"] == 4242
    tab_to("[data-dice=gen-seed]")
    after_run(page, "generate", lambda: page.keyboard.press("Space"))
    assert sent(page)[0][1]["seed"] != 4242
    tab_to("nav button[data-show=arithmetic]", "Shift+Tab")  # back up through the card to the nav
    after_run(page, "arithmetic", lambda: page.keyboard.press("Enter"))
    assert page.is_visible("#view-arithmetic")
    tab_to("#add-term")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.dataset.name") == "seeds"  # focus moves into the new term
    assert len(page.query_selector_all("#terms .term")) == 4
    tab_to("#copy-curl")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#copy-status').textContent")


@pytest.mark.parametrize("view", VIEWS)
def test_phone_has_no_horizontal_scroll(
    new_page: PageFactory, server_url: str, models: dict[str, dict[str, Any]], view: str
) -> None:
    page = new_page(PHONE)
    model = kind(models, "infogan" if view == "infogan" else "conditional")
    open_page(page, server_url, f"#{view}?model={model['name']}&n=64&steps=16")
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] == PHONE["width"]
    assert not page.evaluate("document.querySelector('#card').open")  # the card folds away on a phone


# ---------- translation and text-to-image (issue #9) ----------


def test_translate(page: Any, server_url: str, api: httpx.Client, models: dict[str, dict[str, Any]]) -> None:
    model = kind(models, "translator")
    assert open_page(page, server_url, f"#translate?model={model['name']}&direction=b2a&seed=12") == "translate"
    [(path, body)] = sent(page)
    assert (path, body) == ("/translate", {"model": model["name"], "direction": "b2a", "seed": 12, "format": "json"})
    reply = answer(api, path, body)
    assert shown(page, "#view-translate figure img") == [reply["source"], reply["translation"]]
    assert reply["target_domain"] in page.inner_text("#view-translate .output")
    after_run(page, "translate", lambda: page.select_option("#tr-direction", "a2b"))
    assert sent(page)[0][1]["direction"] == "a2b" and "direction=a2b" in page.url
    png = base64.b64decode(reply["translation"])  # an uploaded PNG replaces the seed
    after_run(
        page,
        "translate",
        lambda: page.set_input_files("#tr-file", files=[{"name": "x.png", "mimeType": "image/png", "buffer": png}]),
    )
    [(path, body)] = sent(page)
    assert body["image"] == reply["translation"] and "seed" not in body
    assert shown(page, "#view-translate figure img") == [(r := answer(api, path, body))["source"], r["translation"]]


def test_text2image(page: Any, server_url: str, api: httpx.Client, models: dict[str, dict[str, Any]]) -> None:
    model = kind(models, "text2image")
    open_page(page, server_url, f"#text2image?model={model['name']}&text=a+thick+sevn&seed=3&n=4")
    [(path, body)] = sent(page)
    assert body == {"model": model["name"], "text": "a thick sevn", "seed": 3, "n": 4, "format": "json"}
    reply = answer(api, path, body)
    assert shown(page, "#view-text2image .grid img") == [im["png"] for im in reply["images"]]
    assert shown(page, "#view-text2image .strip img") == [im["stage1"] for im in reply["images"]]
    assert "sevn" in page.inner_text("#view-text2image .unknown-words")  # reported, not dropped silently
    page.fill("#t2i-text", "a small upright two")
    after_run(page, "text2image", lambda: page.press("#t2i-text", "Enter"))
    assert sent(page)[0][1]["text"] == "a small upright two" and "text=a+small+upright+two" in page.url
    assert "Every word" in page.inner_text("#view-text2image .unknown-words")
    page.fill("#t2i-text", "hello")
    after_run(page, "text2image", lambda: page.press("#t2i-text", "Enter"))
    assert "text: no word of the text is in the vocabulary" in page.inner_text("#view-text2image [role=alert]")


def test_choosing_a_model_of_another_kind_opens_its_view(
    page: Any, server_url: str, models: dict[str, dict[str, Any]]
) -> None:
    translator, text = kind(models, "translator"), kind(models, "text2image")
    open_page(page, server_url, f"#generate?model={kind(models, 'unconditional')['name']}&seed=1&n=1")
    after_run(page, "translate", lambda: page.select_option("#model", translator["name"]))
    assert page.is_visible("#view-translate form") and "Kind" in page.inner_text("#card-facts")
    after_run(page, "text2image", lambda: page.select_option("#model", text["name"]))
    assert page.is_visible("#view-text2image form") and not page.is_visible("#view-translate")
    after_run(page, "translate", lambda: page.click("nav >> text=Translate"))  # the view explains, and offers one
    assert page.is_visible("#view-translate [data-other=translator]")
    after_run(page, "translate", lambda: page.click(f"[data-switch=translator] >> text=Use {translator['name']}"))
    assert page.input_value("#model") == translator["name"] and page.is_visible("#view-translate form")


@pytest.mark.parametrize("view", ["translate", "text2image"])
def test_new_views_permalink_and_phone(
    new_page: PageFactory, server_url: str, models: dict[str, dict[str, Any]], view: str
) -> None:
    name = kind(models, "translator" if view == "translate" else "text2image")["name"]
    fragment = {
        "translate": f"#translate?model={name}&direction=a2b&seed=4",
        "text2image": f"#text2image?model={name}&text=a+thin+one&seed=2&n=16",
    }[view]
    first = new_page(PHONE)
    assert open_page(first, server_url, fragment) == view
    width = first.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] == PHONE["width"]
    again = new_page()
    assert (
        open_page(again, server_url, first.get_attribute("#permalink", "href").removeprefix(server_url + "/")) == view
    )
    assert sent(again) == sent(first)
    assert shown(again, f"#view-{view} .output img") == shown(first, f"#view-{view} .output img")


def test_translate_an_uploaded_jpeg_of_another_size(
    page: Any, server_url: str, api: httpx.Client, models: dict[str, dict[str, Any]]
) -> None:
    """The file picker takes JPEGs too, at any size; the page shows what the service read (28×28) and made."""
    model = kind(models, "translator")
    open_page(page, server_url, f"#translate?model={model['name']}&seed=1")
    buf = io.BytesIO()
    Image.open(EXAMPLES / "digit-3.png").resize((112, 112)).save(buf, format="JPEG", quality=90)
    assert "image/jpeg" in page.get_attribute("#tr-file", "accept")
    pick = [{"name": "three.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}]
    after_run(page, "translate", lambda: page.set_input_files("#tr-file", files=pick))
    [(path, body)] = sent(page)
    assert base64.b64decode(body["image"]) == buf.getvalue()
    reply = answer(api, path, body)
    assert shown(page, "#view-translate figure img") == [reply["source"], reply["translation"]]
    assert Image.open(io.BytesIO(base64.b64decode(reply["source"]))).size == (28, 28)
