"""Request and response bodies of the HTTP API (named by direction, as in the template).

Requests are strict (no silent "5" → 5 coercion) and forbid unknown keys, so a typo such as
`"lable"` is a 422 naming the field instead of a silently ignored option.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _whole(value: object) -> object:
    """2.0 → 2: JSON (and JSON Schema's `integer`) does not tell 2 from 2.0; 2.5, "2" and true stay refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Int = Annotated[int, BeforeValidator(_whole)]  # every integer of a request body
# Bounds of an integer go inside, before the validator: put on `Int` itself (or on `Int | None`), pydantic checks them
# but writes them into the JSON schema as `ge`/`le`, words JSON Schema does not know, so the OpenAPI document lost them.
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="0..4294967295"), BeforeValidator(_whole)]
Index = Annotated[int, Field(ge=0), BeforeValidator(_whole)]
Label = Annotated[Int | str, Field(description="class index, or class name from ModelInfo.class_names")]
Code = Annotated[float, Field(ge=-100.0, le=100.0, allow_inf_nan=False)]
Format = Literal["png", "json"]
Columns = Annotated[
    Annotated[int, Field(ge=1, le=256), BeforeValidator(_whole)] | None,
    Field(None, description="grid columns; default ceil(sqrt(n))"),
]
Truncation = Annotated[
    float | None,
    Field(
        None,
        gt=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="ψ in (0, 1]: each drawn z is redrawn component-wise until |z_i| <= 2, then scaled by ψ "
        "(docs/API.md); absent: plain z(seed)",
    ),
]
Latent = Annotated[
    list[Annotated[float, Field(ge=-100.0, le=100.0, allow_inf_nan=False)]],
    Field(
        min_length=1,
        max_length=4096,
        description="latent_dim numbers in [-100, 100], used as z in place of the seed's (as float32, never "
        "truncated); the label and codes still come from the seed unless sent too (docs/API.md)",
    ),
]
Image = Annotated[
    str,
    Field(
        max_length=1 << 20,
        description="base64 PNG or JPEG, read as POST /encode reads it, encoded by the model's encoder; its latent "
        "goes where a sent latent would (docs/API.md)",
    ),
]
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAABwAAAAcCAAAAABXZoBIAAAA..."  # the examples' PNG, cut short


def request_config(*examples: dict[str, Any]) -> ConfigDict:
    """A request body's config: strict, unknown keys refused (module docstring), with its OpenAPI examples."""
    return ConfigDict(strict=True, extra="forbid", json_schema_extra={"examples": list(examples)})


class Codes(BaseModel):
    """An InfoGAN model's codes, as POST /encode answers them: both, in place of the seed's."""

    model_config = ConfigDict(strict=True, extra="forbid")

    categorical: Int = Field(ge=0, description="index below codes.categorical[0] of ModelInfo")
    continuous: list[Code] = Field(max_length=64, description="codes.continuous values, each in [-100, 100]")


class GenerateRequest(BaseModel):
    """Body of POST /generate."""

    model_config = request_config(
        {"model": "mnist-dcgan", "n": 16, "seed": 42, "format": "png"},
        {"model": "mnist-cgan", "n": 4, "seed": 7, "label": "3", "format": "json"},
    )

    model: str | None = Field(None, description="a name from /models; absent: the server default")
    n: Int = Field(1, ge=1, le=256, description="images; image i uses seed + i (mod 2^32)")
    seed: Seed | None = Field(None, description="absent: the server draws one and reports it")
    label: Label | None = Field(None, description="conditional models only; absent: drawn per image")
    latent: Latent | None = Field(None, description="addition: z of the image (n must be 1)")
    image: Image | None = Field(None, description="addition: an image whose encoding is z (n must be 1)")
    codes: Codes | None = Field(
        None, description="addition, InfoGAN models: every image's codes (POST /encode's `codes`); absent: the seed's"
    )
    truncation: Truncation = None
    format: Format = "png"
    columns: Columns = None


class InterpolateRequest(BaseModel):
    """Body of POST /interpolate."""

    model_config = request_config(
        {"model": "mnist-dcgan", "seed_a": 1, "seed_b": 2, "steps": 8, "method": "slerp"},
        {"model": "mnist-cgan", "seed_a": 1, "seed_b": 2, "label_a": 3, "label_b": 8, "format": "json"},
    )

    model: str | None = None
    seed_a: Seed | None = Field(None, description="required unless latent_a is given")
    seed_b: Seed | None = Field(None, description="required unless latent_b is given")
    latent_a: Latent | None = Field(None, description="addition: the first end's z; absent: z(seed_a)")
    latent_b: Latent | None = Field(None, description="addition: the last end's z; absent: z(seed_b)")
    image_a: Image | None = Field(None, description="addition: an image whose encoding is the first end")
    image_b: Image | None = Field(None, description="addition: an image whose encoding is the last end")
    label_a: Label | None = Field(None, description="conditional models; absent: drawn from seed_a")
    label_b: Label | None = Field(None, description="conditional models; absent: label_a")
    steps: Int = Field(8, ge=2, le=64)
    method: Literal["slerp", "lerp"] = "slerp"
    truncation: Truncation = None
    format: Format = "png"
    columns: Columns = None


class ArithmeticTerm(BaseModel):
    """One concept: the mean latent of its exemplar seeds, times `weight`."""

    model_config = ConfigDict(strict=True, extra="forbid")

    seeds: list[Seed] | None = Field(
        None, min_length=1, max_length=16, description="exemplars; the term is their mean (required without latent)"
    )
    latent: Latent | None = Field(
        None, description="addition: the term's latent instead of a mean; seeds (one at most) then give only its label"
    )
    image: Image | None = Field(None, description="addition: an image whose encoding is the term's latent")
    weight: float = Field(1.0, ge=-100.0, le=100.0, allow_inf_nan=False)
    label: Label | None = Field(None, description="conditional models: the label of this term's mean image")


class ArithmeticRequest(BaseModel):
    """Body of POST /arithmetic."""

    model_config = request_config(
        {
            "model": "mnist-dcgan",
            "terms": [{"seeds": [1, 2, 3], "weight": 1}, {"seeds": [4, 5], "weight": -1}, {"seeds": [6]}],
            "format": "json",
        },
        {"model": "mnist-cgan", "terms": [{"seeds": [10], "weight": 1}], "label": 7},
    )

    model: str | None = None
    terms: list[ArithmeticTerm] = Field(min_length=1, max_length=8)
    label: Label | None = Field(
        None, description="addition: conditional models, label of the result; absent: the first term's"
    )
    truncation: Truncation = None
    format: Format = "png"


class Sweep(BaseModel):
    """One code varied over `values`, noise and the other codes held fixed."""

    model_config = ConfigDict(strict=True, extra="forbid")

    code: str = Field(pattern=r"^(categorical|continuous:\d{1,2})$", examples=["categorical", "continuous:0"])
    values: list[Annotated[Int | Code, Field(union_mode="left_to_right")]] = Field(min_length=1, max_length=64)


class InfoGANRequest(BaseModel):
    """Body of POST /infogan (InfoGAN models only)."""

    model_config = request_config(
        {"model": "mnist-infogan", "seed": 5, "categorical": 3, "continuous": [0.5, -0.5]},
        {
            "model": "mnist-infogan",
            "seed": 5,
            "sweep": {"code": "continuous:0", "values": [-2, -1, 0, 1, 2]},
            "format": "json",
        },
    )

    model: str | None = None
    seed: Seed | None = Field(None, description="absent: the server draws one and reports it")
    categorical: Index | None = Field(None, description="absent: drawn from the seed")
    continuous: list[Code] | None = Field(None, max_length=64, description="absent: drawn from the seed")
    latent: Latent | None = Field(None, description="addition: z of every image in place of z(seed)")
    sweep: Sweep | None = None
    truncation: Truncation = None
    format: Format = "png"
    columns: Columns = None


class EncodeRequest(BaseModel):
    """JSON body of POST /encode (the same fields also come as multipart/form-data, `image` a file)."""

    model_config = request_config({"model": "mnist-dcgan", "image": PNG_B64})

    model: str | None = Field(None, description="a generator with an encoder (ModelInfo.encoder); absent: the default")
    image: Image
    label: Label | None = Field(None, description="conditional models: the image's class, which their encoder reads")
    format: Literal["json"] = Field("json", description="the answer is always JSON")


class EncodeResponse(BaseModel):
    """Answer of POST /encode: the latent (send it as `latent` anywhere) and what the generator makes of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-dcgan",
                    "latent": [0.12, -1.3, 0.4],
                    "label": None,
                    "class_name": None,
                    "codes": None,
                    "source": PNG_B64,
                    "reconstruction": PNG_B64,
                    "distance": 0.071,
                }
            ]
        }
    )

    model: str
    latent: list[float] = Field(
        description="latent_dim float32 values: send back as `latent` (InfoGAN: with `codes`) for the same image"
    )
    label: int | None = Field(description="the label the encoder read (conditional models)")
    class_name: str | None
    codes: dict[str, Any] | None = Field(description="InfoGAN: {categorical, continuous} the encoder read")
    source: str = Field(description="base64 PNG of the image as the model read it (grey, its size and polarity)")
    reconstruction: str = Field(description="base64 PNG of G(E(image)): /generate with this latent")
    distance: float = Field(description="mean |reconstruction - source| over pixels, pixels in [0, 1]")


class TranslateRequest(BaseModel):
    """Body of POST /translate: a PNG to translate, or a seed that picks a source-domain test image."""

    model_config = request_config(
        {"model": "mnist-cyclegan", "direction": "a2b", "seed": 3, "format": "json"},
        {"model": "mnist-cyclegan", "direction": "b2a", "image": PNG_B64, "format": "png"},
    )

    model: str | None = Field(None, description="a translator from /models; absent: the first served one")
    direction: str = Field("a2b", max_length=32, description="a key of ModelInfo.directions")
    image: str | None = Field(
        None,
        description="base64 PNG or JPEG, 8..4096 pixels a side, read as grey at the model's size with the dataset's "
        "polarity (docs/API.md); GAN_MAX_BODY_BYTES bounds its length",
    )
    seed: Seed | None = Field(None, description="no image: picks the source image from the model's bank")
    format: Format = "png"


class TranslateResponse(BaseModel):
    """`format=json` answer of POST /translate."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-cyclegan",
                    "direction": "a2b",
                    "source_domain": "mnist",
                    "target_domain": "mnist-thick",
                    "seed": 3,
                    "bank_index": 117,
                    "source": PNG_B64,
                    "translation": PNG_B64,
                }
            ]
        }
    )

    model: str
    direction: str
    source_domain: str
    target_domain: str
    seed: int | None = Field(description="null when an image was sent")
    bank_index: int | None = Field(description="the bank image the seed picked; null when an image was sent")
    source: str = Field(description="base64 PNG of the source image, as the model saw it")
    translation: str = Field(description="base64 PNG")


class Text2ImageRequest(BaseModel):
    """Body of POST /text2image."""

    model_config = request_config(
        {"model": "mnist-stackgan", "text": "a thick slanted seven", "seed": 1, "n": 8, "format": "png"},
        {"model": "mnist-stackgan", "text": "a small thin two", "seed": 5, "n": 2, "format": "json"},
    )

    model: str | None = Field(None, description="a text2image model from /models; absent: the first served one")
    text: str = Field(min_length=1, max_length=500, description="words outside the model's vocabulary are reported")
    n: Int = Field(1, ge=1, le=256, description="images; image i uses seed + i (mod 2^32)")
    seed: Seed | None = Field(None, description="absent: the server draws one and reports it")
    format: Format = "png"
    columns: Columns = None


class TextImageOut(BaseModel):
    """One text-to-image result with its Stage-I image."""

    seed: int
    png: str = Field(description="base64 PNG at the model's size")
    stage1: str = Field(description="base64 PNG of the low-resolution Stage-I image")


class Text2ImageResponse(BaseModel):
    """`format=json` answer of POST /text2image."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-stackgan",
                    "text": "a thick slanted sevn",
                    "words": ["a", "thick", "slanted"],
                    "unknown_words": ["sevn"],
                    "seed": 1,
                    "n": 1,
                    "images": [{"seed": 1, "png": PNG_B64, "stage1": PNG_B64}],
                }
            ]
        }
    )

    model: str
    text: str
    words: list[str] = Field(description="the words the model read, in order")
    unknown_words: list[str] = Field(description="words not in the vocabulary: not read by the model")
    seed: int
    n: int
    images: list[TextImageOut]


class ImageOut(BaseModel):
    """One generated image of a `format=json` answer."""

    seed: int | None
    label: int | None = None
    class_name: str | None = None
    png: str = Field(description="base64 PNG")


class GenerateResponse(BaseModel):
    """`format=json` answer of POST /generate."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-cgan",
                    "seed": 7,
                    "n": 2,
                    "images": [
                        {"seed": 7, "label": 3, "class_name": "3", "png": PNG_B64},
                        {"seed": 8, "label": 3, "class_name": "3", "png": PNG_B64},
                    ],
                }
            ]
        }
    )

    model: str
    seed: int
    n: int
    images: list[ImageOut]


class FrameOut(ImageOut):
    """One interpolation frame."""

    t: float


class InterpolateResponse(BaseModel):
    """`format=json` answer of POST /interpolate."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-dcgan",
                    "method": "slerp",
                    "seed_a": 1,
                    "seed_b": 2,
                    "label_a": None,
                    "label_b": None,
                    "images": [
                        {"t": 0.0, "seed": 1, "label": None, "class_name": None, "png": PNG_B64},
                        {"t": 0.5, "seed": None, "label": None, "class_name": None, "png": PNG_B64},
                        {"t": 1.0, "seed": 2, "label": None, "class_name": None, "png": PNG_B64},
                    ],
                }
            ]
        }
    )

    model: str
    method: str
    seed_a: int
    seed_b: int
    label_a: int | None
    label_b: int | None
    images: list[FrameOut]


class TermOut(BaseModel):
    """One arithmetic term and the image of its mean latent."""

    seeds: list[int]
    weight: float
    label: int | None
    png: str = Field(description="base64 PNG of this term's mean latent")


class ArithmeticResponse(BaseModel):
    """`format=json` answer of POST /arithmetic: the result and each term's mean image."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-dcgan",
                    "label": None,
                    "images": [{"seed": None, "label": None, "class_name": None, "png": PNG_B64}],
                    "terms": [
                        {"seeds": [1, 2, 3], "weight": 1.0, "label": None, "png": PNG_B64},
                        {"seeds": [4, 5], "weight": -1.0, "label": None, "png": PNG_B64},
                    ],
                }
            ]
        }
    )

    model: str
    label: int | None
    images: list[ImageOut]
    terms: list[TermOut]


class CodeImageOut(ImageOut):
    """One InfoGAN image with the codes it was generated from."""

    categorical: int
    continuous: list[float]


class InfoGANResponse(BaseModel):
    """`format=json` answer of POST /infogan."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-infogan",
                    "seed": 5,
                    "sweep": {"code": "categorical", "values": [0, 1]},
                    "images": [
                        {
                            "seed": 5,
                            "label": None,
                            "class_name": None,
                            "categorical": 0,
                            "continuous": [0.1, -0.4],
                            "png": PNG_B64,
                        },
                        {
                            "seed": 5,
                            "label": None,
                            "class_name": None,
                            "categorical": 1,
                            "continuous": [0.1, -0.4],
                            "png": PNG_B64,
                        },
                    ],
                }
            ]
        }
    )

    model: str
    seed: int
    sweep: Sweep | None
    images: list[CodeImageOut]


class ImageShape(BaseModel):
    """Channels and size of one image."""

    channels: int
    height: int
    width: int


_MODEL_INFO_EXAMPLE: dict[str, Any] = {
    "name": "mnist-cgan",
    "variant": "cgan",
    "dataset": "mnist",
    "latent_dim": 100,
    "conditional": True,
    "num_classes": 10,
    "class_names": [str(i) for i in range(10)],
    "codes": None,
    "label_blend": False,
    "image": {"channels": 1, "height": 28, "width": 28},
    "sha256": "3545f85048b7ead8f3f50fc85fe0ffa62bae3cdaa44674af4f6792f5b69bc153",
    "provider": "CPUExecutionProvider",
    "batch_shapes": "dynamic",
    "identity": {
        "shapes": "dynamic",
        "max_batch": 64,
        "passes": 2,
        "identical": True,
        "seconds": 0.61,
        "cached": False,
    },
    "opset": 18,
    "metrics": {"fid": 3.1, "label_accuracy": 0.99},
}


class DirectionInfo(BaseModel):
    """One direction of a translator."""

    source: str
    target: str
    sha256: str
    bank_images: int = Field(description="source images a seed can pick")


class TextInfo(BaseModel):
    """How a text-to-image model reads text."""

    vocabulary: list[str]
    max_tokens: int
    class_words: list[str]
    attributes: dict[str, list[str]]


class IdentityInfo(BaseModel):
    """The start-up proof that batching changes no bit: every batch size the batcher can send was run `passes`
    times, with deterministic compute on, and each row compared with the same row run alone."""

    shapes: Literal["dynamic", "fixed"] = Field(description="exact batch sizes, or runs padded to GAN_MAX_BATCH")
    max_batch: int = Field(description="every batch size from 1 to this was run (GAN_MAX_BATCH)")
    passes: int
    identical: bool = Field(description="false only where GAN_BATCH_SHAPES forced a mode the proof refuted")
    seconds: float = Field(
        description="what the proof took when it ran, at this start or when the proof cache recorded it (all graphs)"
    )
    cached: bool = Field(
        False,
        description="true where this start found the proof in the proof cache (GAN_PROOF_CACHE_DIR) and skipped it",
    )


class ModelInfo(BaseModel):
    """What a served model is, how it runs and how well it scored at export."""

    model_config = ConfigDict(protected_namespaces=(), json_schema_extra={"examples": [_MODEL_INFO_EXAMPLE]})

    name: str
    kind: Literal["generator", "translator", "text2image"] = Field(
        "generator", description="which routes take it: /generate and co., /translate, /text2image"
    )
    directions: dict[str, DirectionInfo] | None = Field(None, description="translators only")
    text: TextInfo | None = Field(None, description="text2image models only")
    variant: str
    dataset: str
    latent_dim: int
    conditional: bool
    num_classes: int | None
    class_names: list[str] | None
    codes: dict[str, Any] | None
    label_blend: bool
    image: ImageShape
    sha256: str
    provider: str
    batch_shapes: Literal["dynamic", "fixed"]
    identity: IdentityInfo
    opset: int
    metrics: dict[str, float | None]
    encoder: dict[str, Any] | None = Field(
        None, description="addition: the encoder's sha256 and figures (POST /encode, `image`); null: takes no images"
    )
    credit: str | None = Field(None, description="addition: the training data's credit, to show with its samples")


class ModelsResponse(BaseModel):
    """Every served model and the default one."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"models": [_MODEL_INFO_EXAMPLE], "default": "mnist-cgan"}]}
    )

    models: list[ModelInfo]
    default: str | None


class HealthStatus(BaseModel):
    """Liveness answer (/healthz): the process serves HTTP; /readyz answers a `ReadyStatus`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "models": [], "failed": {}}]})

    status: Literal["ok", "ready", "loading", "unready", "draining"]
    models: list[str] = []
    failed: dict[str, str] = {}


class ReadyStatus(BaseModel):
    """Readiness and the served models; the details (`failed`, `down`) only for a request with a valid API key
    when keys are required, since reasons carry paths and ONNX Runtime errors."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ready", "models": ["mnist-cgan", "mnist-dcgan"], "failed": {}, "down": {}},
                {"status": "ready", "models": ["mnist-cgan", "mnist-dcgan"]},
                {"status": "loading", "models": []},
            ]
        }
    )

    status: Literal["ready", "loading", "unready", "draining"]
    models: list[str]
    failed: dict[str, str] = Field(
        default_factory=dict, description="models (or folders) not served, or served at a previous version, and why"
    )
    down: dict[str, str] = Field(
        default_factory=dict, description="lanes (model graphs) whose last batch failed, and why; empty once one works"
    )


class ReloadResponse(BaseModel):
    """What POST /admin/reload changed; `failed` names what on disk cannot be served, and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "added": ["mnist-wgan-gp"],
                    "updated": ["mnist-dcgan"],
                    "removed": ["mnist-old"],
                    "unchanged": ["mnist-cgan"],
                    "failed": {"mnist-broken": "sha256 of model.onnx is 3f…, manifest says 9a…"},
                    "models": ["mnist-cgan", "mnist-dcgan", "mnist-wgan-gp"],
                    "default": "mnist-cgan",
                }
            ]
        }
    )

    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    failed: dict[str, str]
    models: list[str]
    default: str | None
