"""Image folders as datasets (training/folders.py): decoding, classes, splits, the cache and every bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from training import data, folders
from training.folders import FolderError, load_folder, scan


def picture(path, colour, size=(40, 40), mode="RGB", alpha=255):
    """A square of `colour` on a transparent (RGBA) or own-coloured ground, saved in `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    w, h = size
    img.paste(Image.new("RGBA", (w // 2, h // 2), (*colour, alpha)), (w // 4, h // 4))
    if mode == "RGBA":
        img.save(path)
    elif mode == "P":
        img.convert("RGB").convert("P", palette=Image.ADAPTIVE).save(path)
    else:
        flat = Image.alpha_composite(Image.new("RGBA", size, (*colour, 255)), img).convert(mode)
        flat.save(path, quality=95) if path.suffix == ".jpg" else flat.save(path)
    return path


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "pics"
    for i in range(6):
        picture(root / "reds" / f"r{i}.png", (220, 20, 20), mode=["RGB", "RGBA", "P"][i % 3])
        picture(root / "blues" / f"b{i}.jpg", (20, 20, 220), size=(30 + 7 * i, 24))
    picture(root / "greys" / "g.png", (128, 128, 128), mode="L")
    (root / "notes.txt").write_text("not a picture")
    return root


def test_classes_are_the_folders_holding_images_and_every_mode_decodes(folder, tmp_path):
    f = load_folder(folder, 32, 3, "white", tmp_path / "cache")
    assert f.class_names == ("blues", "greys", "reds")
    assert f.images.shape == (13, 3, 32, 32) and f.images.dtype == np.uint8
    assert np.bincount(f.labels).tolist() == [6, 1, 6]
    reds = f.images[f.labels == 2]
    assert (reds[:, 0, 16, 16] > 180).all() and (reds[:, 2, 16, 16] < 60).all()  # RGB, RGBA and palette alike
    grey = load_folder(folder, 64, 1, "white", None)
    assert grey.images.shape == (13, 1, 64, 64)


def test_alpha_goes_on_the_declared_background_and_aspect_is_kept_centred(tmp_path):
    root = tmp_path / "pics" / "only"
    picture(root / "transparent.png", (0, 200, 0), size=(64, 64), mode="RGBA", alpha=0)
    wide = Image.new("RGB", (64, 16), (0, 0, 255))
    wide.save(root / "wide.png")
    f = load_folder(tmp_path / "pics", 32, 3, "white", None)
    by_name = dict(zip(f.files, f.images, strict=True))
    assert (by_name["only/transparent.png"] == 255).all()  # nothing but white
    black = load_folder(tmp_path / "pics", 32, 3, "black", None)
    assert (dict(zip(black.files, black.images, strict=True))["only/transparent.png"] == 0).all()
    band = by_name["only/wide.png"]  # 64×16 → 32×8, centred: rows 12..19 blue, the rest white
    assert (band[:, 12:20] == np.array([0, 0, 255]).reshape(3, 1, 1)).all()
    assert (band[:, :12] == 255).all() and (band[:, 20:] == 255).all()


def test_splits_come_from_file_names(folder, tmp_path):
    f = load_folder(folder, 32, 3, "white", None)
    for name, image_bucket in zip(f.files, f.buckets, strict=True):
        assert image_bucket == folders.bucket(folder / name)
    sizes = {s: len(f.split(s)[0]) for s in ("fit", "val", "test", "train")}
    assert sizes["fit"] + sizes["val"] + sizes["test"] == 13 and sizes["train"] == sizes["fit"] + sizes["val"]
    picture(folder / "reds" / "r0-copy.png", (1, 2, 3))  # a new file leaves the others' splits alone
    again = load_folder(folder, 32, 3, "white", None)
    old = dict(zip(f.files, f.buckets, strict=True))
    assert all(old[n] == b for n, b in zip(again.files, again.buckets, strict=True) if n in old)


def test_the_cache_is_keyed_by_contents(folder, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = load_folder(folder, 32, 3, "white", cache)
    assert len(list(cache.glob("*.npz"))) == 1

    def no_decoding(*args):
        raise AssertionError("decoded again although nothing changed")

    monkeypatch.setattr(folders, "decode", no_decoding)
    cached = load_folder(folder, 32, 3, "white", cache)
    assert cached.class_names == first.class_names and cached.files == first.files
    assert (cached.images == first.images).all() and (cached.labels == first.labels).all()
    monkeypatch.undo()
    picture(folder / "reds" / "r1.png", (10, 200, 10))  # same name, new bytes: decoded afresh
    changed = load_folder(folder, 32, 3, "white", cache)
    assert len(list(cache.glob("*.npz"))) == 2
    assert not (changed.images == first.images).all()


def test_a_broken_file_is_named_or_skipped_and_listed(folder, tmp_path):
    (folder / "reds" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(FolderError, match=r"cannot read image .*reds/broken\.png.*--skip-bad"):
        load_folder(folder, 32, 3, "white", None)
    f = load_folder(folder, 32, 3, "white", tmp_path / "cache", skip_bad=True)
    assert f.skipped == ["reds/broken.png"] and len(f.images) == 13
    again = load_folder(folder, 32, 3, "white", tmp_path / "cache", skip_bad=True)  # the list survives the cache
    assert again.skipped == ["reds/broken.png"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root.mkdir(), r"holds no images"),
        (lambda root: None, r"does not exist"),
        (lambda root: (root / "cats").mkdir(parents=True) or picture(root / "dogs" / "d.png", (1, 2, 3)), r"cats"),
        (lambda root: picture(root / "a" / "x.png", (1, 2, 3)).write_bytes(b"junk"), r"a/x\.png"),
    ],
    ids=["empty folder", "missing folder", "class with no images", "unreadable only file"],
)
def test_bad_folders_are_clear_errors(tmp_path, make, message):
    root = tmp_path / "pics"
    make(root)
    with pytest.raises(FolderError, match=message):
        load_folder(root, 32, 3, "white", None)


def test_a_class_left_empty_by_skipping_is_an_error(tmp_path):
    root = tmp_path / "pics"
    picture(root / "good" / "g.png", (1, 2, 3))
    (root / "bad").mkdir()
    (root / "bad" / "b.png").write_bytes(b"junk")
    with pytest.raises(FolderError, match=r"bad left with no readable image"):
        load_folder(root, 32, 3, "white", None, skip_bad=True)


@pytest.mark.parametrize(
    ("size", "channels", "background", "message"),
    [(48, 3, "white", "size 48"), (32, 4, "white", "channels"), (32, 3, "pink", "background 'pink'")],
)
def test_bad_settings_are_clear_errors(folder, size, channels, background, message):
    with pytest.raises(FolderError, match=message):
        load_folder(folder, size, channels, background, None)


def test_the_emoji_set_reads_as_declared(data_dir, tmp_path):
    files, classes = scan(data_dir / "emoji")
    assert classes == data.DATASETS["emoji"].class_names and len(files) == 7562
    x, y = data.load_split(data_dir, "emoji", "val", tmp_path)
    assert x.shape[1:] == (3, 32, 32) and len(x) == len(y) > 500
