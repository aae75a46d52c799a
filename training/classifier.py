"""The evaluation classifier of each dataset: trained here, loaded once per process, and its features of the real
images, against which every generator's figures are measured (the floor of FID, the ceiling of precision and recall).
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from service.manifest import file_sha256

from . import diskcache
from .data import DATASETS, load_split, shuffled_batches, to_tensor
from .metrics import frechet_distance, knn_radii, moments, precision_recall
from .models import Classifier

CLASSIFIER_DIR = Path(__file__).parent / "classifiers"
log = logging.getLogger(__name__)


def train_classifier(data_dir: Path, dataset: str, epochs: int, seed: int = 0) -> float:
    """Train and save the evaluation classifier; returns its test accuracy."""
    torch.manual_seed(seed)
    info = DATASETS[dataset]
    x_np, y_np = load_split(data_dir, dataset, "train")
    x, y = to_tensor(x_np), torch.from_numpy(y_np)
    model = Classifier(info.channels, len(info.class_names), info.height)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * (len(x) // 128))
    for epoch in range(epochs):
        model.train()
        bar = tqdm(list(shuffled_batches(len(x), 128, seed, epoch)), desc=f"{dataset} classifier {epoch + 1}")
        for idx in bar:
            batch = x[idx]
            # random shifts of up to 2 pixels: cheap augmentation that buys Fashion-MNIST its last point
            dx, dy = np.random.default_rng((seed, epoch, int(idx[0]))).integers(-2, 3, 2)
            batch = torch.roll(batch, (int(dy), int(dx)), dims=(2, 3))
            loss = F.cross_entropy(model(batch), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    accuracy = classifier_accuracy(model, data_dir, dataset)
    CLASSIFIER_DIR.mkdir(exist_ok=True)
    torch.save(
        {"state_dict": model.state_dict(), "test_accuracy": accuracy, "epochs": epochs},
        CLASSIFIER_DIR / f"{dataset}.pt",
    )
    log.info("%s classifier: test accuracy %.4f", dataset, accuracy)
    return accuracy


@cache
def load_classifier(dataset: str) -> Classifier:
    path = CLASSIFIER_DIR / f"{dataset}.pt"
    if not path.exists():
        raise ValueError(f"no evaluation classifier at {path}: run `python -m training classifier {dataset}`")
    info = DATASETS[dataset]
    model = Classifier(info.channels, len(info.class_names), info.height)
    model.load_state_dict(torch.load(path, map_location="cpu")["state_dict"])
    return model.eval()


@torch.no_grad()
def classify(model: Classifier, images: torch.Tensor, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Penultimate features [N, 128] and predicted classes [N] of images in [-1, 1]."""
    feats, preds = [], []
    for start in range(0, len(images), batch):
        f = model.features(images[start : start + batch])
        feats.append(f.numpy())
        preds.append(model.head(f).argmax(1).numpy())
    return np.concatenate(feats), np.concatenate(preds)


@cache
def classifier_sha256(dataset: str) -> str:
    return file_sha256(CLASSIFIER_DIR / f"{dataset}.pt")


def real_features(dataset: str, images: np.ndarray, radii: bool = False) -> dict[str, np.ndarray]:
    """`classify`'s features and predicted classes of real uint8 images (with their k-NN radii if asked), kept in
    the feature cache (diskcache.py) under the classifier's sha256 and the images' own: the same images and
    classifier give the same arrays, to the bit, without classifying them again."""

    def compute() -> dict[str, np.ndarray]:
        feats, predicted = classify(load_classifier(dataset), to_tensor(images))
        return {"features": feats, "predicted": predicted} | ({"radii": knn_radii(feats).numpy()} if radii else {})

    key = {"what": f"{dataset} real features", "classifier_sha256": classifier_sha256(dataset)}
    return diskcache.cached(key | {"images_sha256": diskcache.array_sha256(images), "radii": radii}, compute)


def classifier_accuracy(model: Classifier, data_dir: Path, dataset: str) -> float:
    x, y = load_split(data_dir, dataset, "test")
    _, pred = classify(model, to_tensor(x))
    return float((pred == y).mean())


@cache
def reference_features(data_dir: Path, dataset: str) -> dict:
    """Test-split features, their predicted classes, moments and k-NN radii: what every figure is measured against."""
    real = real_features(dataset, load_split(data_dir, dataset, "test")[0], radii=True)
    return real | {"test": moments(real["features"]), "radii": torch.from_numpy(real["radii"])}


@cache
def reference_statistics(data_dir: Path, dataset: str) -> dict:
    """`reference_features` and the real-vs-real figures (10,000 training images against the test split): the floor
    of FID and the ceiling of precision and recall."""
    ref = reference_features(data_dir, dataset)
    train_feats = real_features(dataset, load_split(data_dir, dataset, "train")[0][:10_000])["features"]
    precision, recall = precision_recall(ref["features"], train_feats, ref["radii"])
    return ref | {
        "floor": frechet_distance(*moments(train_feats), *ref["test"]),
        "precision": precision,
        "recall": recall,
    }
