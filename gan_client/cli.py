"""`gan`: sample from the service from a shell. Errors from the server are printed as the server said them."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from .client import DEFAULT_URL, Format, GanClient, GanError, Png, Result, Term


def label(text: str) -> int | str:
    """A class index when it is a number, else a class name."""
    return int(text) if text.lstrip("-").isdigit() else text


def term(text: str) -> Term:
    """`SEEDS[:WEIGHT[:LABEL]]`, e.g. `1,2,3:1` or `4,5:-1:7`."""
    seeds, _, rest = text.partition(":")
    weight, _, lab = rest.partition(":")
    out: Term = {"seeds": [int(s) for s in seeds.split(",")], "weight": float(weight or 1)}
    if lab:
        out["label"] = label(lab)
    return out


def read_latent(path: Path) -> list[float]:
    """A latent file: a JSON list of numbers, or a JSON object with `latent` (what `gan encode` writes, to `-o FILE`
    or stdout)."""
    data = json.loads(path.read_text())
    values = data.get("latent") if isinstance(data, dict) else data
    if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
        raise ValueError(f"{path}: expected a JSON list of numbers or an object with 'latent'")
    return [float(v) for v in values]


def read_codes(path: Path) -> dict[str, Any] | None:
    """The InfoGAN codes of a latent file (`gan encode`'s `codes`); None for a plain list or a model without codes."""
    data = json.loads(path.read_text())
    codes = data.get("codes") if isinstance(data, dict) else None
    if codes is not None and not (isinstance(codes, dict) and {"categorical", "continuous"} <= set(codes)):
        raise ValueError(f"{path}: 'codes' must be an object with 'categorical' and 'continuous'")
    return None if codes is None else {"categorical": codes["categorical"], "continuous": codes["continuous"]}


def latent_term(text: str) -> tuple[Path, float, int | str | None]:
    """`FILE[:WEIGHT[:LABEL]]`, e.g. `mine.json:1` or `thin.json:-1:7`."""
    path, _, rest = text.partition(":")
    weight, _, lab = rest.partition(":")
    return Path(path), float(weight or 1), label(lab) if lab else None


def sweep(text: str) -> dict[str, Any]:
    """`CODE=V1,V2,...`, e.g. `continuous:0=-1,0,1` or `categorical=0,1,2`."""
    code, _, values = text.partition("=")
    return {"code": code, "values": [float(v) if "." in v else int(v) for v in values.split(",")]}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gan", description=__doc__)
    p.add_argument("--url", default=DEFAULT_URL, help="service address (env GAN_URL)")
    p.add_argument("--api-key", default=os.environ.get("GAN_API_KEY"), help="sent as a bearer token (env GAN_API_KEY)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="list the served models")

    def sampling(name: str, help: str) -> argparse.ArgumentParser:
        s = sub.add_parser(name, help=help)
        s.add_argument("--model", help="default: the server's")
        s.add_argument("-o", "--output", type=Path, help="write the PNG here (default: stdout)")
        s.add_argument("--json", action="store_true", help="print the JSON response instead of a PNG")
        return s

    def truncatable(name: str, help: str) -> argparse.ArgumentParser:
        s = sampling(name, help)
        s.add_argument("--truncation", type=float, help="ψ in (0, 1]: the truncation trick, less variety")
        return s

    s = truncatable("sample", "images from a seed (and a label)")
    s.add_argument("--seed", type=int)
    s.add_argument("-n", type=int, default=1)
    s.add_argument("--label", type=label)
    s.add_argument("--columns", type=int)
    s.add_argument(
        "--latent-file", type=Path, help="z of the image: a JSON list, or gan encode's JSON (its InfoGAN codes too)"
    )
    s.add_argument("--image", type=Path, help="a PNG or JPEG whose encoding is z (models with an encoder)")
    s = truncatable("interpolate", "a walk between the latents of two seeds")
    s.add_argument("--seed-a", type=int, help="required without --latent-file-a")
    s.add_argument("--seed-b", type=int, help="required without --latent-file-b")
    s.add_argument("--latent-file-a", type=Path, help="the first end's z (JSON list, or gan encode's JSON)")
    s.add_argument("--latent-file-b", type=Path, help="the last end's z")
    s.add_argument("--image-a", type=Path, help="a PNG or JPEG whose encoding is the first end")
    s.add_argument("--image-b", type=Path, help="a PNG or JPEG whose encoding is the last end")
    s.add_argument("--label-a", type=label)
    s.add_argument("--label-b", type=label)
    s.add_argument("--steps", type=int, default=8)
    s.add_argument("--method", choices=["slerp", "lerp"], default="slerp")
    s.add_argument("--columns", type=int, help="grid columns (default: one row)")
    s = truncatable("arithmetic", "latent vector arithmetic over means of seeds")
    s.add_argument("--term", type=term, action="append", default=[], help="SEEDS[:WEIGHT[:LABEL]], repeatable")
    s.add_argument(
        "--latent-term", type=latent_term, action="append", default=[], help="LATENT_FILE[:WEIGHT[:LABEL]], repeatable"
    )
    s.add_argument("--image-term", type=latent_term, action="append", default=[], help="IMAGE[:WEIGHT[:LABEL]]")
    s.add_argument("--label", type=label, help="label of the result (conditional models)")
    s = truncatable("infogan", "InfoGAN's codes, fixed or swept")
    s.add_argument("--seed", type=int)
    s.add_argument("--categorical", type=int)
    s.add_argument("--continuous", type=float, nargs="+")
    s.add_argument("--sweep", type=sweep, help="CODE=V1,V2,... e.g. continuous:0=-1,0,1")
    s.add_argument("--columns", type=int, help="grid columns of a sweep (default: one row)")
    s.add_argument("--latent-file", type=Path, help="z of every image: a JSON list, or gan encode's JSON")
    s = sub.add_parser("encode", help="an image → the model's latent (models with an encoder)")
    s.add_argument("image", type=Path, help="a PNG or JPEG, read as grey at the model's size (docs/API.md)")
    s.add_argument("--model", help="default: the server's")
    s.add_argument("--label", type=label, help="the image's class (conditional models)")
    s.add_argument("-o", "--output", type=Path, help="write the JSON here, for --latent-file (default: stdout)")
    s.add_argument("--reconstruction", type=Path, help="write G(E(image)) here as a PNG")
    s = sampling("translate", "translate a PNG, or a test image picked by a seed (translator models)")
    s.add_argument("--direction", default="a2b")
    s.add_argument("--image", type=Path, help="a PNG or JPEG, read as grey at the model's size (docs/API.md)")
    s.add_argument("--seed", type=int)
    s = sampling("text", "images of a caption (text-to-image models)")
    s.add_argument("text")
    s.add_argument("--seed", type=int)
    s.add_argument("-n", type=int, default=1)
    s.add_argument("--columns", type=int)
    return p


def run(args: argparse.Namespace, client: GanClient) -> Result:
    fmt: Format = "json" if getattr(args, "json", False) else "png"
    if args.command == "models":
        return client.models()
    if args.command == "sample":
        latent = read_latent(args.latent_file) if args.latent_file else None
        codes = read_codes(args.latent_file) if args.latent_file else None
        image = args.image.read_bytes() if args.image else None
        return client.generate(
            args.model, args.n, args.seed, args.label, fmt, args.columns, args.truncation, latent, image, codes
        )
    if args.command == "interpolate":
        columns = args.columns or args.steps  # a walk reads left to right: one row (the server's default is square)
        return client.interpolate(
            args.seed_a,
            args.seed_b,
            args.model,
            args.label_a,
            args.label_b,
            args.steps,
            args.method,
            fmt,
            columns,
            args.truncation,
            read_latent(args.latent_file_a) if args.latent_file_a else None,
            read_latent(args.latent_file_b) if args.latent_file_b else None,
            args.image_a.read_bytes() if args.image_a else None,
            args.image_b.read_bytes() if args.image_b else None,
        )
    if args.command == "arithmetic":
        terms = args.term + [_latent_term(*t) for t in args.latent_term] + [_image_term(*t) for t in args.image_term]
        return client.arithmetic(terms, args.model, args.label, fmt, args.truncation)
    if args.command == "encode":
        encoded = client.encode(args.image.read_bytes(), args.model, args.label)
        if args.reconstruction:
            args.reconstruction.write_bytes(base64.b64decode(encoded["reconstruction"]))
            print(f"wrote {args.reconstruction} (distance {encoded['distance']:.4f})", file=sys.stderr)
        return encoded
    if args.command == "translate":
        image = args.image.read_bytes() if args.image else None
        return client.translate(args.model, args.direction, image, args.seed, fmt)
    if args.command == "text":
        return client.text2image(args.text, args.model, args.n, args.seed, fmt, args.columns)
    columns = args.columns or (len(args.sweep["values"]) if args.sweep else None)  # a sweep too: one row
    codes = {"categorical": args.categorical, "continuous": args.continuous, "sweep": args.sweep}
    latent = read_latent(args.latent_file) if args.latent_file else None
    return client.infogan(
        args.model, args.seed, **codes, format=fmt, columns=columns, truncation=args.truncation, latent=latent
    )


def _latent_term(path: Path, weight: float, lab: int | str | None) -> Term:
    out: Term = {"latent": read_latent(path), "weight": weight}
    if lab is not None:
        out["label"] = lab
    return out


def _image_term(path: Path, weight: float, lab: int | str | None) -> Term:
    out: Term = {"image": base64.b64encode(path.read_bytes()).decode("ascii"), "weight": weight}
    if lab is not None:
        out["label"] = lab
    return out


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with GanClient(args.url, args.api_key) as client:
            result = run(args, client)
        show(args, result)
    except GanError as e:
        print(f"error: the server answered {e.status}: {e.detail}", file=sys.stderr)
        return 1
    except httpx.HTTPError as e:
        print(f"error: cannot reach {args.url}: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # an --image that is not there, an -o folder that is missing: one line, no traceback
        print(f"error: {e.filename}: {e.strerror}" if e.filename else f"error: {e}", file=sys.stderr)
        return 1
    except ValueError as e:  # a latent file that is not JSON or holds no list of numbers
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def show(args: argparse.Namespace, result: bytes | dict[str, Any] | list[dict[str, Any]]) -> None:
    """Write the answer to -o or stdout; what the server reported beside a PNG goes to stderr."""
    if isinstance(result, bytes):
        if isinstance(result, Png) and result.headers.get("x-unknown-words"):
            words = result.headers["x-unknown-words"].replace(",", ", ")
            print(f"unknown words, not read by the model: {words}", file=sys.stderr)
        if args.output:
            args.output.write_bytes(result)
            print(f"wrote {args.output} ({len(result)} bytes)", file=sys.stderr)
        else:
            sys.stdout.buffer.write(result)
        if isinstance(result, Png) and result.seeds:  # the server's draw too: rerun with --seed to get the same
            print(f"seed: {','.join(map(str, result.seeds))}", file=sys.stderr)
        return
    if args.command == "models":
        assert isinstance(result, list), "/models answered no list of models"
        for m in result:
            print(f"{m['name']:18s} {m['variant']:9s} {m['dataset']:14s} provider={m.get('provider')}")
        return
    text = json.dumps(result, indent=2)
    if args.output:
        args.output.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    sys.exit(main())
