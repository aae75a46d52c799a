"""KServe Open Inference Protocol v2 beside the REST API, so Triton and KServe clients work unchanged.

`/v2/models/{name}/infer` takes either the model's own ONNX inputs as tensors or a `seed` tensor (one seed
per image, drawn exactly as `/generate` draws them; an optional `label` tensor overrides the drawn labels, and
the request's `parameters.truncation` truncates them as `truncation` does on the REST routes), and returns
the `image` tensor. Requests go through the same batcher as the REST API. Tensors travel as JSON `data` or in
the protocol's binary extension (`Inference-Header-Content-Length`), both ways.

Whatever a client sends gets a 4xx: a JSON header nested deeper than `MAX_DEPTH` is refused before it is
parsed (Python's parser would hit its recursion limit: a 500), and a seed sent as a float must be an exact
integer the type holds (a float32 turns seed 16,777,217 into 16,777,216: the wrong image with a 200).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service import __version__
from service.deps import StateDep
from service.errors import InputError, ModelNotFound, Unavailable
from service.registry import LoadedModel

router = APIRouter(prefix="/v2", tags=["open inference protocol v2"])

DATATYPES = {
    "FP32": np.float32,
    "FP64": np.float64,
    "INT64": np.int64,
    "INT32": np.int32,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
}
NAMES = {"float32": "FP32", "int64": "INT64"}
SEED_TYPES = {"INT64", "INT32", "UINT32", "UINT64"}
HEADER_LENGTH = "Inference-Header-Content-Length"
MAX_DEPTH = 32  # JSON nesting of a request header; a real one nests about 12 deep (an 8-axis tensor's data)
EXACT_INTEGERS = {"FP32": 2**24, "FP64": 2**53}  # every integer up to these is held exactly; not all above
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class ProtocolError(Exception):
    """A request the protocol rejects: answered with the protocol's `{"error": ...}`, 400 unless said otherwise."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class InputTensor(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)  # no "1" → 1: the OpenAPI document says integers

    name: str
    shape: list[int] = Field(max_length=8)
    datatype: str
    parameters: dict[str, Any] = {}
    data: list[Any] | None = None


class OutputRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    name: str
    parameters: dict[str, Any] = {}


class InferRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    id: str | None = None
    parameters: dict[str, Any] = {}
    inputs: list[InputTensor] = Field(min_length=1, max_length=8)
    outputs: list[OutputRequest] | None = None


def error(status: int, message: str, retry_after_s: float | None = None) -> JSONResponse:
    """The protocol's error body; `detail` too, as every other route of this service answers."""
    headers = {"Retry-After": str(max(1, round(retry_after_s)))} if retry_after_s is not None else None
    return JSONResponse({"error": message, "detail": message}, status_code=status, headers=headers)


def served(state: StateDep, name: str) -> LoadedModel | JSONResponse:
    try:
        return state.model(name)
    except ModelNotFound as e:
        return error(404, str(e))
    except InputError as e:  # a translator or text-to-image model: not in this protocol's repository
        return error(404, e.message)
    except Unavailable as e:
        return error(503, str(e), e.retry_after_s)


@router.get("")
async def server_metadata() -> dict[str, Any]:
    """Server metadata: name, version, protocol extensions."""
    return {"name": "gan-sampling-service", "version": __version__, "extensions": ["binary_tensor_data"]}


@router.get("/health/live")
async def live() -> dict[str, bool]:
    return {"live": True}


@router.get("/health/ready")
async def ready(state: StateDep) -> JSONResponse:
    if not state.ready:
        return JSONResponse({"ready": False}, status_code=503, headers={"Retry-After": "2"})
    return JSONResponse({"ready": True})


@router.get("/models/{name}")
async def model_metadata(name: str, state: StateDep) -> Any:
    """Inputs and outputs of the ONNX graph, with -1 for the batch axis; `seed` may replace them all."""
    model = served(state, name)
    if isinstance(model, JSONResponse):
        return model
    m = model.manifest

    def tensors(specs: Any) -> list[dict[str, Any]]:
        return [
            {"name": t.name, "datatype": NAMES[t.dtype], "shape": [-1 if isinstance(d, str) else d for d in t.shape]}
            for t in specs
        ]

    return {
        "name": m.name,
        "versions": ["1"],
        "platform": "onnxruntime_onnx",
        "inputs": tensors(m.inputs),
        "outputs": tensors(m.outputs[:1]),
        "parameters": {"seed_input": {"name": "seed", "datatype": "INT64", "shape": [-1]}},
    }


@router.get("/models/{name}/ready")
async def model_ready(name: str, state: StateDep) -> JSONResponse:
    model = served(state, name)
    if isinstance(model, JSONResponse):
        return model
    return JSONResponse({"name": name, "ready": True})


def nesting_depth(text: bytes) -> int:
    """How deep the arrays and objects of JSON text nest (brackets inside strings do not count)."""
    if text.count(b"[") + text.count(b"{") <= MAX_DEPTH:
        return 0  # cannot be deeper than the limit: skip the scan, as for almost every request
    brackets = np.frombuffer(_STRING.sub(b"", text).translate(None, _NOT_BRACKETS), np.uint8)
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def parse_body(raw: bytes, header_length: str | None) -> tuple[InferRequest, bytes]:
    """The JSON header and the binary tail (empty without the binary extension)."""
    try:
        size = len(raw) if header_length is None else int(header_length)
        if not 0 < size <= len(raw):
            raise ValueError(f"{HEADER_LENGTH} {size} outside the body's {len(raw)} bytes")
        if nesting_depth(raw[:size]) > MAX_DEPTH:
            raise ValueError(f"the JSON nests deeper than {MAX_DEPTH} levels")
        return InferRequest.model_validate(json.loads(raw[:size])), raw[size:]
    except (ValueError, ValidationError) as e:
        raise ProtocolError(f"malformed inference request: {e}") from None


def decode(tensor: InputTensor, binary: memoryview, offset: int) -> tuple[np.ndarray, int]:
    """One input tensor as a numpy array; returns it and the offset past its binary data."""
    dtype = DATATYPES.get(tensor.datatype)
    if dtype is None:
        raise ProtocolError(f"input {tensor.name!r}: datatype {tensor.datatype} not supported ({sorted(DATATYPES)})")
    if any(d < 0 for d in tensor.shape):
        raise ProtocolError(f"input {tensor.name!r}: negative dimension in shape {tensor.shape}")
    count = int(np.prod(tensor.shape))
    size = tensor.parameters.get("binary_data_size")
    try:
        if size is not None:
            if not isinstance(size, int) or size != count * np.dtype(dtype).itemsize or offset + size > len(binary):
                raise ValueError(f"binary_data_size {size} does not fit shape {tensor.shape} {tensor.datatype}")
            array = sent = np.frombuffer(binary[offset : offset + size], dtype=dtype).copy()
            offset += size
        else:  # floats as sent: a float64 holds every number Python's JSON parser reads
            parse = np.float64 if np.dtype(dtype).kind == "f" else dtype
            sent = np.asarray(json_numbers(tensor, np.dtype(dtype).kind == "f"), dtype=parse).ravel()
            array = sent.astype(dtype, copy=False)
        if array.size != count:
            raise ValueError(f"{array.size} values for shape {tensor.shape}")
    except (ValueError, TypeError, OverflowError) as e:
        raise ProtocolError(f"input {tensor.name!r}: {e}") from None
    if tensor.name == "seed" and tensor.datatype in EXACT_INTEGERS:
        exact_float_seeds(tensor.datatype, sent)
    return array.reshape(tensor.shape), offset


def json_numbers(tensor: InputTensor, floats: bool) -> list[Any]:
    """JSON data as numbers of the tensor's kind, 2.0 read as 2 for an integer type (JSON Schema's integers
    include it); anything else is refused, as numpy would read "7" as 7 and truncate 1.5 to 1."""

    def number(value: Any) -> Any:
        if isinstance(value, list):
            return [number(v) for v in value]
        if isinstance(value, float) and not floats and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or (not floats and isinstance(value, float)):
            kind = "numbers" if floats else "integers"
            raise ValueError(f"{tensor.datatype} data must be JSON {kind}, got {value!r}")
        return value

    return [number(v) for v in (tensor.data if tensor.data is not None else [])]


def exact_float_seeds(datatype: str, sent: np.ndarray) -> None:
    """Seeds sent as floats must be integers the type holds exactly (FP32: up to 2^24), else 422."""
    limit = EXACT_INTEGERS[datatype]
    exact = np.isfinite(sent) & (sent == np.floor(sent)) & (np.abs(sent) <= limit)
    if not np.all(exact):
        bad = sent[~exact][0]
        limit_text = "2^24" if datatype == "FP32" else "2^53"
        message = f"input 'seed': {datatype} seeds must be exact integers up to {limit_text} ({bad!r} is not); "
        raise ProtocolError(message + "send larger seeds as INT64 or UINT32", status=422)


def check_rows(name: str, array: np.ndarray, rows: int, high: int) -> np.ndarray:
    """Per-image integers (seeds, labels, codes) as a flat int64 [rows] array within [0, high)."""
    flat = array.reshape(-1) if array.ndim <= 1 or array.shape[1:] == (1,) else None
    if flat is None or len(flat) != rows:
        raise ProtocolError(f"input {name!r}: expected shape [{rows}], got {list(array.shape)}")
    if flat.dtype.kind == "f" and not np.all(np.isfinite(flat) & (flat == np.floor(flat))):
        raise ProtocolError(f"input {name!r}: expected integers")
    if flat.size and (flat.min() < 0 or flat.max() >= high):
        raise ProtocolError(f"input {name!r}: values must lie in [0, {high - 1}]")
    return flat.astype(np.int64)


def truncation(parameters: dict[str, Any]) -> float | None:
    """The request's `parameters.truncation` ψ in (0, 1], as the REST routes take it; absent: None."""
    psi = parameters.get("truncation")
    if psi is None:
        return None
    if isinstance(psi, bool) or not isinstance(psi, int | float) or not 0 < psi <= 1:
        raise ProtocolError(f"parameters.truncation must be a number in (0, 1], got {psi!r}")
    return float(psi)


def model_inputs(
    model: LoadedModel, arrays: dict[str, np.ndarray], max_images: int, psi: float | None = None
) -> dict[str, np.ndarray]:
    """The ONNX feeds: from `seed` (and optional `label`, `z` truncated by ψ where given), or the graph's own
    inputs checked against it."""
    m = model.manifest
    first = next(iter(arrays.values()))
    rows = first.shape[0] if first.ndim else 0
    if not 1 <= rows <= max_images:
        raise ProtocolError(f"batch of {rows} images; allowed 1..{max_images} (GAN_MAX_N)")
    if "seed" in arrays:
        unknown = set(arrays) - {"seed", "label"}
        if unknown:
            raise ProtocolError(f"with a seed input only 'label' may be given too, not {sorted(unknown)}")
        seeds = check_rows("seed", arrays["seed"], rows, 2**32)
        draws = model.draws([int(s) for s in seeds], psi)
        labels = None
        if "label" in arrays:
            if not m.conditional:
                raise ProtocolError(f"model {m.name!r} is unconditional and takes no label")
            labels = check_rows("label", arrays["label"], rows, len(m.labels()))
        return model.feeds(
            [d.z for d in draws],
            [d.label for d in draws] if labels is None else [int(x) for x in labels],
            [d.c_cat for d in draws],
            [d.c_cont for d in draws],
        )
    if psi is not None:
        raise ProtocolError("parameters.truncation applies to a seed input; a z tensor is used as sent")
    expected = {t.name: t for t in m.inputs}
    if set(arrays) != set(expected):
        raise ProtocolError(f"inputs must be {sorted(expected)} (or 'seed'), got {sorted(arrays)}")
    feeds = {}
    for name, spec in expected.items():
        array = arrays[name]
        want = [rows, *spec.shape[1:]]
        if list(array.shape) != want:
            raise ProtocolError(f"input {name!r}: expected shape {want}, got {list(array.shape)}")
        if spec.dtype == "int64":
            high = len(m.labels()) if name == "label" else m.codes.categorical[0] if m.codes else 0
            feeds[name] = check_rows(name, array, rows, high)
        else:
            # Checked after the cast to the float32 the graph runs: an FP64 1e300 is finite, its float32 is not.
            cast = array.astype(np.float32)
            if not np.all(np.isfinite(cast)):
                raise ProtocolError(f"input {name!r}: values must be finite as FP32 (|x| < 3.4e38)")
            feeds[name] = cast
    return feeds


def encode(request: InferRequest, name: str, images: np.ndarray) -> Response:
    """The `image` output as JSON data, or binary when the client asked for it."""
    requested = request.outputs or [OutputRequest(name="image")]
    binary = bool(request.parameters.get("binary_data_output")) or any(
        o.parameters.get("binary_data") for o in requested
    )
    out: dict[str, Any] = {"name": "image", "datatype": "FP32", "shape": list(images.shape)}
    body: dict[str, Any] = {"model_name": name, "model_version": "1", "outputs": [out]}
    if request.id is not None:
        body["id"] = request.id
    if not binary:
        out["data"] = images.ravel().tolist()
        return JSONResponse(body)
    data = np.ascontiguousarray(images, dtype=np.float32).tobytes()
    out["parameters"] = {"binary_data_size": len(data)}
    header = json.dumps(body).encode()
    return Response(header + data, media_type="application/octet-stream", headers={HEADER_LENGTH: str(len(header))})


@router.post(
    "/models/{name}/infer",
    responses={
        400: {"description": "a request the protocol rejects"},
        422: {"description": "a seed sent as a float that is not an exact integer the type holds"},
    },
)
async def infer(name: str, request: Request, state: StateDep) -> Response:
    """Run the generator on tensors (or seeds) through the service's batcher."""
    model = served(state, name)
    if isinstance(model, JSONResponse):
        return model
    try:
        body, tail = parse_body(await request.body(), request.headers.get(HEADER_LENGTH))
        if any(o.name != "image" for o in body.outputs or []):
            raise ProtocolError("the only output is 'image'")
        arrays, offset, binary = {}, 0, memoryview(tail)
        for tensor in body.inputs:
            if tensor.name in arrays:
                raise ProtocolError(f"input {tensor.name!r} given twice")
            arrays[tensor.name], offset = decode(tensor, binary, offset)
        feeds = model_inputs(model, arrays, state.settings.max_n, truncation(body.parameters))
    except ProtocolError as e:
        return error(e.status, str(e))
    images = await state.sample(request, model, feeds)
    return encode(body, model.name, images)
