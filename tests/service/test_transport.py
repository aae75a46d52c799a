"""Nothing is lost between client and server: under overload every request gets an HTTP answer.

256 keep-alive clients (a pooled httpx client, then an aiohttp session) keep a request in flight each against
a real generator whose queue holds far fewer images than they ask for: the model runs flat out and most of
them are refused. Every request must end in a 200 or a 503 with Retry-After; a closed connection, a reset or a
timeout (a transport error) fails the test. The keep-alive timeout the server uses is GAN_KEEPALIVE_S: an idle
connection stays open that long, then the server closes it (docs/OPERATIONS.md says why 75 s). And each
response leaves in one write (service/protocol.py): the kernel counts one TCP segment per response, not two.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections import Counter
from pathlib import Path

import aiohttp
import httpx
import pytest

from service.settings import Settings

from .conftest import real_manifests
from .launch import Launched, serving

CLIENTS = 256
FLOOD_S = 3.0
N = 16  # images per request
QUEUE_IMAGES = 64  # four requests' worth: most of the 256 are refused at any moment
BODY = {"model": "mnist-dcgan", "n": N, "seed": 7, "format": "json"}


@pytest.fixture(scope="module")
def dcgan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the real mnist-dcgan, so the server starts in seconds."""
    found = [m for m in real_manifests() if m["name"] == "mnist-dcgan"]
    if not found:
        pytest.skip("mnist-dcgan is not exported")
    root = tmp_path_factory.mktemp("dcgan_only")
    (root / "mnist-dcgan").symlink_to(found[0]["_folder"], target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def flooded(dcgan_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("flood") / "server.log"
    with serving(dcgan_dir, log, max_batch=4, queue_images=QUEUE_IMAGES, log_level="warning") as server:
        yield server


def _check(answers: Counter[str], retry_after: set[str | None]) -> None:
    assert set(answers) <= {"200", "503"}, f"not an HTTP answer (or not 200/503): {answers}"
    assert answers["200"] and answers["503"], answers  # the model was saturated and the rest refused
    assert None not in retry_after and all(int(v) >= 1 for v in retry_after), retry_after


async def _flood_httpx(url: str) -> tuple[Counter[str], set[str | None]]:
    answers: Counter[str] = Counter()
    retry_after: set[str | None] = set()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        end = time.monotonic() + FLOOD_S

        async def one_client() -> None:
            while time.monotonic() < end:
                try:
                    r = await client.post("/generate", json=BODY)
                except httpx.TransportError as exc:
                    answers[type(exc).__name__] += 1
                    continue
                answers[str(r.status_code)] += 1
                if r.status_code == 503:
                    retry_after.add(r.headers.get("retry-after"))

        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return answers, retry_after


async def _flood_aiohttp(url: str) -> tuple[Counter[str], set[str | None]]:
    answers: Counter[str] = Counter()
    retry_after: set[str | None] = set()
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(url, connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        end = time.monotonic() + FLOOD_S

        async def one_client() -> None:
            while time.monotonic() < end:
                try:
                    async with session.post("/generate", json=BODY) as r:
                        await r.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    answers[type(exc).__name__] += 1
                    continue
                answers[str(r.status)] += 1
                if r.status == 503:
                    retry_after.add(r.headers.get("Retry-After"))

        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return answers, retry_after


def test_httpx_flood_gets_an_http_answer_for_every_request(flooded: Launched):
    _check(*asyncio.run(_flood_httpx(flooded.url)))
    assert flooded.proc.poll() is None


def test_aiohttp_flood_gets_an_http_answer_for_every_request(flooded: Launched):
    _check(*asyncio.run(_flood_aiohttp(flooded.url)))
    assert flooded.proc.poll() is None


def _exchange(sock: socket.socket) -> bytes:
    """One GET /healthz on an open connection; the whole response (head and Content-Length body)."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(v for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k.lower() == b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return data


def test_idle_connections_are_kept_for_gan_keepalive_s(dcgan_dir: Path, tmp_path: Path):
    assert Settings(_env_file=None).keepalive_s == 75  # above the 60 s idle timeout of common load balancers
    with serving(dcgan_dir, tmp_path / "server.log", max_batch=1, keepalive_s=2) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            assert _exchange(sock).startswith(b"HTTP/1.1 200")
            time.sleep(1.0)  # idle for half the keep-alive: still open
            assert _exchange(sock).startswith(b"HTTP/1.1 200")
            time.sleep(3.0)  # idle past it: the server has closed it
            sock.settimeout(2)
            assert sock.recv(1) == b""


TCP_INFO_SEGS_IN = 140  # offset of struct tcp_info's tcpi_segs_in (Linux 4.2 on): segments the socket received


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="struct tcp_info is Linux's")
def test_each_response_arrives_in_one_tcp_segment(flooded: Launched):
    def segments_in(sock: socket.socket) -> int:
        return struct.unpack_from("I", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256), TCP_INFO_SEGS_IN)[0]

    host, port = flooded.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        _exchange(sock)
        before = segments_in(sock)
        for _ in range(50):
            assert _exchange(sock).startswith(b"HTTP/1.1 200")
        per_response = (segments_in(sock) - before) / 50
    assert per_response < 1.2, f"{per_response} TCP segments per response: head and body written apart"
