"""The Python client (sync and async) and the `gan` command against the real server."""

from __future__ import annotations

import asyncio
import base64
import io
import re
import socket
import subprocess
import sys

import pytest
from PIL import Image

from gan_client import AsyncGanClient, GanClient, GanError, Png


@pytest.fixture(scope="module")
def gan(server):
    with GanClient(server.url) as c:
        yield c


def test_sync_client_matches_raw_http(gan, client, server):
    model = server.find("conditional")["name"]
    png = gan.generate(model=model, n=4, seed=3, label=2)
    assert png == client.post("/generate", json={"model": model, "n": 4, "seed": 3, "label": 2}).content
    doc = gan.generate(model=model, n=2, seed=3, label=2, format="json")
    assert [img["seed"] for img in doc["images"]] == [3, 4]
    assert {m["name"] for m in gan.models()} == set(server.models)
    assert gan.model(model)["conditional"] is True
    strip = gan.interpolate(1, 2, model=model, label_a=1, label_b=7, steps=5)
    with Image.open(io.BytesIO(strip)) as img:
        assert img.mode == ("L" if gan.model(model)["image"]["channels"] == 1 else "RGB")
    term = gan.arithmetic([{"seeds": [3], "weight": 1}], model=model, label=2)
    assert term == gan.generate(model=model, seed=3, label=2)


def test_async_client(server):
    model = server.find("infogan")["name"]

    async def main() -> list[bytes | dict]:
        async with AsyncGanClient(server.url) as c:
            return await asyncio.gather(
                c.infogan(model=model, seed=9, sweep={"code": "categorical", "values": [0, 1, 2]}, format="json"),
                c.generate(model=model, seed=9),
            )

    sweep, single = asyncio.run(main())
    assert len(sweep["images"]) == 3 and isinstance(single, bytes)


def test_server_errors_are_raised_as_said(gan, server):
    with pytest.raises(GanError) as e:
        gan.generate(model=server.find("unconditional")["name"], label=3)
    assert e.value.status == 422 and "label" in str(e.value.detail)
    with pytest.raises(GanError) as e:
        gan.model("no-such-model")
    assert e.value.status == 404


def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "gan_client.cli", *args], capture_output=True, timeout=60)


def test_cli_sample_writes_the_grid(server, tmp_path, gan):
    model = server.find("conditional")["name"]
    out = tmp_path / "grid.png"
    result = run_cli(
        "--url", server.url, "sample", "--model", model, "--label", "7", "--seed", "1", "-n", "16", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == gan.generate(model=model, label=7, seed=1, n=16)
    listing = run_cli("--url", server.url, "models")
    assert model in listing.stdout.decode()


def test_the_seed_the_server_drew_is_reported(gan, server, tmp_path):
    model = server.find("conditional")["name"]
    png = gan.generate(model=model, n=2)
    assert isinstance(png.seed, int) and png.seeds == [png.seed]
    assert png == gan.generate(model=model, n=2, seed=png.seed)
    pair = gan.translate(model=server.find("translator")["name"])
    assert pair == gan.translate(model=server.find("translator")["name"], seed=pair.seed)

    async def drawn() -> bytes | dict:
        async with AsyncGanClient(server.url) as c:
            return await c.generate(model=model)

    async_png = asyncio.run(drawn())
    assert isinstance(async_png, Png) and async_png.seed is not None
    out = tmp_path / "drawn.png"
    result = run_cli("--url", server.url, "sample", "--model", model, "-n", "2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    (seed,) = re.findall(rb"^seed: (\d+)$", result.stderr, re.M)
    again = run_cli("--url", server.url, "sample", "--model", model, "-n", "2", "--seed", seed.decode())
    assert again.stdout == out.read_bytes() and re.search(rb"^seed: " + seed + rb"$", again.stderr, re.M)


def test_cli_shows_server_errors(server):
    result = run_cli("--url", server.url, "sample", "--model", "no-such-model")
    assert result.returncode == 1
    assert result.stderr.decode().startswith("error: the server answered 404")
    arith = run_cli(
        "--url",
        server.url,
        "arithmetic",
        "--model",
        server.find("unconditional")["name"],
        "--term",
        "1,2,3:1",
        "--term",
        "4:-1",
        "--term",
        "5:1:3",
    )
    assert arith.returncode == 1 and b"422" in arith.stderr


def test_translate_and_text2image(gan, client, server, tmp_path):
    translator, text = server.find("translator")["name"], server.find("text2image")["name"]
    pair = gan.translate(model=translator, direction="b2a", seed=4)
    assert pair == client.post("/translate", json={"model": translator, "direction": "b2a", "seed": 4}).content
    doc = gan.translate(model=translator, seed=4, format="json")
    source = base64.b64decode(doc["source"])
    assert gan.translate(model=translator, image=source, format="json")["translation"] == doc["translation"]
    body = {"model": text, "text": "a thick two", "seed": 2, "n": 3}
    assert gan.text2image("a thick two", model=text, n=3, seed=2) == client.post("/text2image", json=body).content
    assert gan.text2image("a thikc two", model=text, format="json")["unknown_words"] == ["thikc"]
    (tmp_path / "in.png").write_bytes(source)
    out = tmp_path / "out.png"
    url = ["--url", server.url]
    result = run_cli(*url, "translate", "--model", translator, "--image", str(tmp_path / "in.png"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == gan.translate(model=translator, image=source)
    result = run_cli(*url, "text", "a slanted nine", "--model", text, "--seed", "5", "-n", "4", "-o", str(out))
    assert result.returncode == 0 and out.read_bytes() == gan.text2image("a slanted nine", model=text, n=4, seed=5)
    bad = run_cli(*url, "text", "hello", "--model", text)
    assert bad.returncode == 1 and b"422" in bad.stderr and b"vocabulary" in bad.stderr


def one_line_error(result: subprocess.CompletedProcess[bytes]) -> str:
    """The CLI failed with exactly one line on stderr, and no traceback."""
    assert result.returncode == 1 and not result.stdout, result
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_cli_a_missing_file_or_an_unreachable_server_is_one_line(server, tmp_path):
    missing = tmp_path / "digit.png"
    line = one_line_error(run_cli("--url", server.url, "translate", "--image", str(missing), "-o", str(tmp_path / "o")))
    assert str(missing) in line and "No such file" in line
    line = one_line_error(run_cli("--url", server.url, "sample", "-o", str(tmp_path / "no-such-dir" / "x.png")))
    assert "no-such-dir" in line
    with socket.socket() as s:  # bound, not listening: nothing answers on this port
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        assert "cannot reach" in one_line_error(run_cli("--url", url, "models"))


def test_cli_reports_the_words_the_model_does_not_know(server, tmp_path):
    out = tmp_path / "t.png"
    text = server.find("text2image")["name"]
    result = run_cli("--url", server.url, "text", "a purple thick elephant seven", "--model", text, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "unknown words, not read by the model: purple, elephant" in result.stderr.decode().splitlines()
    assert Image.open(out).size == (28, 28)
    known = run_cli("--url", server.url, "text", "a thick seven", "--model", text, "-o", str(out))
    assert known.returncode == 0 and b"unknown" not in known.stderr


@pytest.mark.parametrize(
    ("argv", "tiles"),
    [
        (["interpolate", "--seed-a", "1", "--seed-b", "2", "--steps", "8"], (8, 1)),
        (["infogan", "--seed", "5", "--sweep", "continuous:0=-1,-0.5,0,0.5,1"], (5, 1)),
        (["infogan", "--seed", "5", "--sweep", "categorical=0,1,2,3,4,5", "--columns", "3"], (3, 2)),
    ],
)
def test_cli_walks_and_sweeps_are_one_row_unless_columns_says_otherwise(server, tmp_path, argv, tiles):
    model = server.find("infogan" if argv[0] == "infogan" else "unconditional")
    out = tmp_path / "row.png"
    result = run_cli("--url", server.url, *argv, "--model", model["name"], "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (tiles[0] * model["image"]["width"], tiles[1] * model["image"]["height"])
