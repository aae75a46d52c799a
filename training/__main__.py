"""`python -m training <command>`: train, export and measure the models; `--help` lists every command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import folders, importer  # neither needs torch

TRAIN_EXTRA = "pip install -e '.[train]'"
MODELS_DOC = Path("docs/MODELS.md")  # evaluate, all and calibrate rewrite it


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default="../shared/data", help="holds mnist/ and fashion-mnist/ (IDX)")
    common.add_argument("--runs-dir", default="runs", help="checkpoints and logs, one folder per model")
    common.add_argument("--models-dir", default="exported_models", help="where exported models go")
    common.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    purposes = {
        "train": "train models (checkpoints, TensorBoard events and loss curves under --runs-dir)",
        "all": "train, export and evaluate models in one go",
    }
    for name, purpose in purposes.items():
        p = sub.add_parser(name, help=purpose, description=purpose, parents=[common])
        p.add_argument("models", nargs="+", help="e.g. mnist-dcgan fashion-wgan-gp; with --data, variants: dcgan cgan")
        p.add_argument("--data", help="a folder of one's own pictures (PNG/JPEG, one sub-folder per class)")
        p.add_argument("--name", help="with --data: the model's name (default <folder>-<variant>)")
        p.add_argument("--size", type=int, default=32, choices=folders.SIZES, help="with --data: image size")
        p.add_argument("--channels", type=int, default=3, choices=[1, 3], help="with --data: 1 grey, 3 RGB")
        p.add_argument("--background", default="white", help="with --data: what transparency becomes")
        p.add_argument("--skip-bad", action="store_true", help="with --data: leave unreadable files out, listed")
        p.add_argument(
            "--diff-augment",
            default="",
            help="with --data: DiffAugment policies for D, comma-separated (colour,translation,cutout); default none",
        )
        p.add_argument("--epochs", type=int)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--batch-size", type=int, default=64)
        p.add_argument("--limit", type=int, help="train on the first N images only")
        p.add_argument("--max-steps", type=int, help="stop after N generator steps")
        p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
        p.add_argument(
            "--val-samples", type=int, default=5_000, help="samples for each epoch's validation FID (0: none)"
        )
        p.add_argument(
            "--calibration-batches",
            type=positive,
            metavar="N",
            help="batches of 256 samples that re-estimate batch norm for validation and export (default: the full"
            " re-estimate; fewer for a quick smoke run)",
        )
        p.add_argument("--device", help="default: cuda when available, else cpu")
    p = sub.add_parser("export", help="checkpoint → ONNX + manifest + samples.png + losses.png", parents=[common])
    p.add_argument("models", nargs="+")
    p = sub.add_parser("classifier", help="train the evaluation classifier of a dataset", parents=[common])
    p.add_argument("datasets", nargs="+", choices=["mnist", "fashion-mnist", "emoji"])
    p.add_argument("--epochs", type=int, default=8)
    p = sub.add_parser("evaluate", help="measure exported models; rewrite docs/MODELS.md", parents=[common])
    p.add_argument("models", nargs="*", help="default: every exported model")
    p.add_argument("--samples", type=int, default=10_000)
    p = sub.add_parser("export-triton", help="write a Triton model repository of the exported models", parents=[common])
    p.add_argument("--out", default="triton_models")
    p.add_argument("--max-batch-size", type=int, default=256)
    p = sub.add_parser("studies", help="ablation of the improved techniques; SGAN label study", parents=[common])
    p.add_argument("--samples", type=int, default=10_000)
    p = sub.add_parser("cyclegan", help="train + export the MNIST ↔ thick-MNIST CycleGAN", parents=[common])
    p.add_argument("--steps", type=int, help="generator steps (default: CycleConfig.steps)")
    p.add_argument("--limit", type=int, help="train on the first N images of each domain only")
    p.add_argument("--name", default="mnist-cyclegan")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p = sub.add_parser("stackgan", help="train + export the MNIST caption StackGAN", parents=[common])
    p.add_argument("--steps", type=int, help="generator steps (default: StackConfig.steps)")
    p.add_argument("--limit", type=int, help="train on the first N images only")
    p.add_argument("--name", default="mnist-stackgan")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    sub.add_parser("list", help="the models this project trains and commits", parents=[common])
    purpose = "train an encoder (image → latent) for a committed generator; writes encoder.onnx into its folder"
    p = sub.add_parser("encoder", help=purpose, description=purpose, parents=[common])
    p.add_argument("--model", action="append", required=True, help="a committed generator; repeatable")
    p.add_argument("--minutes", type=float, default=8.0, help="training budget per encoder")
    p.add_argument("--remeasure", action="store_true", help="measure the committed encoder again; no training")
    purpose = "FID, precision and recall per truncation ψ of unconditional generators, with a grid per ψ"
    p = sub.add_parser("truncation", help=purpose, description=purpose, parents=[common])
    p.add_argument("models", nargs="+", help="e.g. mnist-dcgan fashion-dcgan")
    p.add_argument("--samples", type=int, default=10_000)
    purpose = "FID, precision and recall of real images with one flaw (noise, blur): what the scale means"
    p = sub.add_parser("calibrate", help=purpose, description=purpose, parents=[common])
    p.add_argument("datasets", nargs="*", help="mnist, fashion-mnist (default: both)")
    purpose = "serve a generator trained elsewhere: check an ONNX graph (or a PyTorch module), write its model folder"
    p = sub.add_parser("import", help=purpose, description=purpose, parents=[common])
    importer.add_arguments(p)

    args = parser.parse_args(argv)
    if args.command == "import":  # needs no torch: the service's packages plus onnx (docs/IMPORT.md)
        return importer.run(args)
    try:
        import torch
    except ModuleNotFoundError:  # the serve-only install (`pip install .`) has no torch, on purpose
        print(f"error: training needs PyTorch and the other training libraries: {TRAIN_EXTRA}", file=sys.stderr)
        return 2
    from .data import DataError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        return run(args)
    except (DataError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    import torch

    from . import classifier, config, distributed, evaluate, export, modelsdoc, recipes, trainer
    from .figures import save_loss_curves

    models_dir, runs_dir = Path(args.models_dir), Path(args.runs_dir)
    if args.command == "list":
        for name in recipes.COMMITTED:
            r = recipes.recipe(name)
            print(f"{r.name:20s} {r.dataset:14s} {r.variant:10s} {r.epochs} epochs")
        return 0
    if args.command == "export-triton":
        from .triton import export_triton

        names = export_triton(models_dir, Path(args.out), args.max_batch_size)
        print(f"wrote {len(names)} models to {args.out}: {', '.join(names)}")
        return 0
    if args.command == "studies":
        from .studies import run_studies

        run_studies(Path(args.data_dir), runs_dir / "studies", Path("docs/STUDIES.md"), args.samples)
        return 0
    if args.command in ("cyclegan", "stackgan"):
        from . import cyclegan, stackgan

        system = {"cyclegan": cyclegan.CycleGAN, "stackgan": stackgan.StackGAN}[args.command]
        overrides = {"name": args.name, "limit": args.limit} | ({"steps": args.steps} if args.steps else {})
        m = system.train_and_export(Path(args.data_dir), runs_dir, models_dir, overrides, args.fresh)
        print(f"{m['name']}: {m['metrics']}")
        return 0
    if args.command == "encoder":
        from .encoder import EncoderConfig, remeasure, train_and_export

        torch.set_num_threads(args.threads or 1)  # small nets: one thread beats a team fighting other runs
        for name in args.model:
            entry = (
                remeasure(name, Path(args.data_dir), runs_dir, models_dir)
                if args.remeasure
                else train_and_export(
                    name, Path(args.data_dir), runs_dir, models_dir, EncoderConfig(minutes=args.minutes)
                )
            )
            print(f"{name}: encoder {entry['sha256'][:12]}, {entry['metrics']}")
        return 0
    if args.command == "truncation":
        from .truncation import truncation_figures

        for name in args.models:
            figures = truncation_figures(Path(args.data_dir), models_dir / name, n=args.samples)
            print(f"{name}: {figures['psi']}")
        return 0
    if args.command == "calibrate":
        from .calibration import write_figures
        from .data import DATASETS

        datasets = args.datasets or list(DATASETS)
        figures = write_figures(Path(args.data_dir), datasets)
        modelsdoc.write_models_doc(models_dir, MODELS_DOC)
        for dataset in datasets:
            print(
                f"{dataset}: " + ", ".join(f"{r['flaw']} {r['level']:g}: {r['fid']}" for r in figures[dataset]["rows"])
            )
        return 0
    if args.command == "classifier":
        for dataset in args.datasets:
            classifier.train_classifier(Path(args.data_dir), dataset, args.epochs)
        return 0
    if args.command in ("train", "all"):
        if args.data and args.name and len(args.models) > 1:
            raise ValueError("--name names one model: give one variant with it")
        for name in args.models:
            r = (
                recipes.folder_recipe(args.data, name, args.name, diff_augment=args.diff_augment)
                if args.data
                else recipes.recipe(name)
            )
            name = r.name
            cfg = config.TrainConfig(
                model=name,
                dataset=r.dataset,
                variant=r.variant,
                epochs=args.epochs or r.epochs,
                decay_epochs=r.decay_epochs,
                ema_decay=r.ema_decay,
                batch_size=args.batch_size,
                seed=args.seed,
                data_dir=args.data_dir,
                runs_dir=args.runs_dir,
                limit=args.limit,
                max_steps=args.max_steps,
                val_samples=args.val_samples,
                calibration_batches=args.calibration_batches or config.DEFAULT_CALIBRATION_BATCHES,
                device=args.device or ("cuda" if torch.cuda.is_available() else "cpu"),
                image_size=args.size,
                channels=args.channels,
                background=args.background,
                skip_bad=args.skip_bad,
            )
            t = trainer.Trainer(cfg, r.declared_variant())
            if not args.fresh:
                t.resume()
            t.fit()
            if t.rank != 0:
                continue  # under torchrun, rank 0 writes the pictures and the export
            save_loss_curves(t.history, t.cfg.run_dir / "losses.png", name)
            if args.command == "all":
                export.export(t.checkpoint_path, models_dir, name)
                if not args.data:  # a folder of one's own has no evaluation classifier
                    evaluate.evaluate_models(Path(args.data_dir), models_dir, [name])
                    modelsdoc.write_models_doc(models_dir, MODELS_DOC)
        distributed.teardown()
        return 0
    if args.command == "export":
        for name in args.models:
            m = export.export(runs_dir / name / "checkpoint.pt", models_dir, name)
            print(f"{name}: parity {m['parity_max_abs_diff']:.1e}, sha256 {m['sha256'][:12]}")
        return 0
    if args.command == "evaluate":
        evaluate.evaluate_models(Path(args.data_dir), models_dir, args.models or None, args.samples)
        modelsdoc.write_models_doc(models_dir, MODELS_DOC)
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
