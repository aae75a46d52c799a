"""Typed sync and async clients over the HTTP contract (docs/API.md).

Every call is written once, in `_Calls`, which builds the request body; the two clients differ only in
transport (`_get` and `_post` answer a result, or an awaitable of it). Sampling methods
return PNG bytes for `format="png"` (a `Png`, which also carries the response headers) and the decoded
JSON for `format="json"`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Awaitable
from typing import Any, Generic, Literal, TypedDict, TypeVar

import httpx

Format = Literal["png", "json"]
DEFAULT_URL = os.environ.get("GAN_URL", "http://localhost:8000")


class Term(TypedDict, total=False):
    seeds: list[int]
    latent: list[float]
    image: str  # base64 PNG or JPEG: b64(path.read_bytes())
    weight: float
    label: int | str


class Png(bytes):
    """PNG bytes, and the response headers that describe them (X-Model, X-Seed, X-Unknown-Words, ...)."""

    headers: httpx.Headers

    def __new__(cls, content: bytes, headers: httpx.Headers) -> Png:
        png = super().__new__(cls, content)
        png.headers = headers
        return png

    @property
    def seeds(self) -> list[int]:
        """X-Seed: every seed that defines the image, including one the server drew because none was sent."""
        return [int(s) for s in self.headers.get("x-seed", "").split(",") if s]

    @property
    def seed(self) -> int | None:
        """The first of `seeds` (the start seed of /generate): send it as `seed` to get these bytes again."""
        return self.seeds[0] if self.seeds else None


class GanError(Exception):
    """The server refused a request; `status` and `detail` are what it said."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


def _body(**fields: Any) -> dict[str, Any]:
    """The request body without the fields left at None, so the server applies its defaults."""
    return {k: v for k, v in fields.items() if v is not None}


def b64(image: bytes | None) -> str | None:
    """Image bytes as the JSON bodies carry them (standard base64)."""
    return None if image is None else base64.b64encode(image).decode("ascii")


def _result(response: httpx.Response, fmt: Format) -> bytes | dict[str, Any]:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text
        raise GanError(response.status_code, detail)
    return Png(response.content, response.headers) if fmt == "png" else response.json()


def _picked(result: Any, key: str | None) -> Any:
    return result if key is None else result[key]


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


R = TypeVar("R")
Result = Any  # PNG bytes (a `Png`), decoded JSON, or a list of models


class _Calls(Generic[R]):
    """The contract's calls; `R` is what one returns: a result (GanClient) or an awaitable of it (AsyncGanClient)."""

    def _get(self, path: str, key: str | None = None) -> R:
        raise NotImplementedError

    def _post(self, path: str, body: dict[str, Any]) -> R:
        raise NotImplementedError

    def models(self) -> R:
        return self._get("/models", key="models")

    def model(self, name: str) -> R:
        return self._get(f"/models/{name}")

    def generate(
        self,
        model: str | None = None,
        n: int = 1,
        seed: int | None = None,
        label: int | str | None = None,
        format: Format = "png",
        columns: int | None = None,
        truncation: float | None = None,
        latent: list[float] | None = None,
        image: bytes | None = None,
        codes: dict[str, Any] | None = None,
    ) -> R:
        """`truncation` ψ in (0, 1]: the truncation trick (docs/API.md), less variety for more fidelity; `latent`:
        z of the one image, in place of the seed's (the seed then gives only the label and codes); `image`: a PNG
        or JPEG whose encoding is that z (models with an encoder); `codes`: `{categorical, continuous}` of an
        InfoGAN model in place of the seed's, so `encode`'s `latent` and `codes` give its reconstruction."""
        body = _body(
            model=model,
            n=n,
            seed=seed,
            label=label,
            format=format,
            columns=columns,
            truncation=truncation,
            latent=latent,
            image=b64(image),
            codes=codes,
        )
        return self._post("/generate", body)

    def interpolate(
        self,
        seed_a: int | None,
        seed_b: int | None,
        model: str | None = None,
        label_a: int | str | None = None,
        label_b: int | str | None = None,
        steps: int = 8,
        method: str = "slerp",
        format: Format = "png",
        columns: int | None = None,
        truncation: float | None = None,
        latent_a: list[float] | None = None,
        latent_b: list[float] | None = None,
        image_a: bytes | None = None,
        image_b: bytes | None = None,
    ) -> R:
        """Either end is a seed, a latent, or both (the seed then gives only the label and codes)."""
        body = _body(
            model=model,
            seed_a=seed_a,
            seed_b=seed_b,
            latent_a=latent_a,
            latent_b=latent_b,
            image_a=b64(image_a),
            image_b=b64(image_b),
            label_a=label_a,
            label_b=label_b,
            steps=steps,
            method=method,
            format=format,
            columns=columns,
            truncation=truncation,
        )
        return self._post("/interpolate", body)

    def arithmetic(
        self,
        terms: list[Term],
        model: str | None = None,
        label: int | str | None = None,
        format: Format = "png",
        truncation: float | None = None,
    ) -> R:
        body = _body(model=model, terms=terms, label=label, format=format, truncation=truncation)
        return self._post("/arithmetic", body)

    def infogan(
        self,
        model: str | None = None,
        seed: int | None = None,
        categorical: int | None = None,
        continuous: list[float] | None = None,
        sweep: dict[str, Any] | None = None,
        format: Format = "png",
        columns: int | None = None,
        truncation: float | None = None,
        latent: list[float] | None = None,
    ) -> R:
        """`latent`: z of every image in place of z(seed) (with `encode`'s codes as `categorical` and `continuous`,
        its reconstruction)."""
        body = _body(
            model=model,
            seed=seed,
            categorical=categorical,
            continuous=continuous,
            sweep=sweep,
            format=format,
            columns=columns,
            truncation=truncation,
            latent=latent,
        )
        return self._post("/infogan", body)

    def encode(self, image: bytes, model: str | None = None, label: int | str | None = None) -> R:
        """A PNG or JPEG → `{latent, label, codes, source, reconstruction, distance}` (models with an encoder)."""
        body = _body(model=model, image=b64(image), label=label, format="json")
        return self._post("/encode", body)

    def translate(
        self,
        model: str | None = None,
        direction: str = "a2b",
        image: bytes | None = None,
        seed: int | None = None,
        format: Format = "png",
    ) -> R:
        """A PNG (`image`, raw bytes) or the bank image a `seed` picks, translated (translator models)."""
        return self._post(
            "/translate", _body(model=model, direction=direction, image=b64(image), seed=seed, format=format)
        )

    def text2image(
        self,
        text: str,
        model: str | None = None,
        n: int = 1,
        seed: int | None = None,
        format: Format = "png",
        columns: int | None = None,
    ) -> R:
        """Images of a caption (text-to-image models); json reports the words the vocabulary lacks."""
        return self._post("/text2image", _body(model=model, text=text, n=n, seed=seed, format=format, columns=columns))


class GanClient(_Calls[Result]):
    """Blocking client: `GanClient().generate(model="mnist-cgan", label=7, seed=1, n=16)` → PNG bytes."""

    def __init__(self, url: str = DEFAULT_URL, api_key: str | None = None, timeout: float = 60.0) -> None:
        self._http = httpx.Client(base_url=url, headers=_headers(api_key), timeout=timeout)

    def __enter__(self) -> GanClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, key: str | None = None) -> Result:
        return _picked(_result(self._http.get(path), "json"), key)

    def _post(self, path: str, body: dict[str, Any]) -> Result:
        return _result(self._http.post(path, json=body), body["format"])


class AsyncGanClient(_Calls[Awaitable[Result]]):
    """The same calls for asyncio: `await AsyncGanClient().generate(...)`."""

    def __init__(self, url: str = DEFAULT_URL, api_key: str | None = None, timeout: float = 60.0) -> None:
        self._http = httpx.AsyncClient(base_url=url, headers=_headers(api_key), timeout=timeout)

    async def __aenter__(self) -> AsyncGanClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, key: str | None = None) -> Result:
        return _picked(_result(await self._http.get(path), "json"), key)

    async def _post(self, path: str, body: dict[str, Any]) -> Result:
        return _result(await self._http.post(path, json=body), body["format"])
