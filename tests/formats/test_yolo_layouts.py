"""YOLO datasets as Ultralytics, Roboflow and other tools lay them out: resolved the way
Ultralytics resolves a data.yaml (``path`` as the root, splits relative to it, ``../x`` retried as
``x``, images/ -> labels/), plus the variants exports arrive in (``valid`` for ``val``, absolute
paths from another machine, labels beside the images) — or refused with the paths tried. Never an
import of nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from exact_lab import formats
from exact_lab.errors import FormatError

BOX = "0 0.5 0.5 0.25 0.5"  # on a 40x20 image: (15, 5) - (25, 15)


def make_split(root: Path, split: str, n_images: int, *, labels_beside=False, lines=(BOX,)) -> None:
    """``split/images/*.jpg`` and their label files (in ``split/labels/`` or beside the images)."""
    images = root / split / "images"
    images.mkdir(parents=True)
    labels = images if labels_beside else root / split / "labels"
    labels.mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        Image.new("RGB", (40, 20)).save(images / f"{split}_{i}.jpg")
        (labels / f"{split}_{i}.txt").write_text("".join(line + "\n" for line in lines))


def write_yaml(target: Path, **conf) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump({**conf, "names": conf.get("names", ["cell"])}, sort_keys=False))
    return target


def test_roboflow_export_with_val_for_valid_imports_every_box(tmp_path, project):
    """Roboflow writes ``../train/images`` and ``../valid/images``; this export's folders are
    train/ and val/. Before, it imported 0 annotations without a word."""
    make_split(tmp_path, "train", 3)
    make_split(tmp_path, "val", 1)
    write_yaml(tmp_path / "data.yaml", train="../train/images", val="../valid/images", nc=1)
    parsed = formats.read(tmp_path)
    assert len(parsed.annotations) == 4
    assert parsed.annotations.geometry[0].bounds == (15, 5, 25, 15)
    assert any("val '../valid/images' read from" in w and str(tmp_path / "val" / "images") in w for w in parsed.warnings)
    report = project.import_annotations(tmp_path)
    assert report["imported"] == 4 and report["by_type"] == {"cell": 4}
    assert sorted(project.images()["name"]) == ["train_0.jpg", "train_1.jpg", "train_2.jpg", "val_0.jpg"]


def test_ultralytics_layout_with_path_key_relative_to_the_yaml(tmp_path):
    ds = tmp_path / "datasets" / "coco8"
    for split in ("train", "val"):
        folder = ds / "images" / split
        folder.mkdir(parents=True)
        Image.new("RGB", (40, 20)).save(folder / f"{split}.jpg")
        (ds / "labels" / split).mkdir(parents=True)
        (ds / "labels" / split / f"{split}.txt").write_text(BOX + "\n1 0.5 0.5 0.5 0.5\n")
    yml = write_yaml(tmp_path / "configs" / "coco8.yaml", path="../datasets/coco8", train="images/train",
                     val="images/val", names={0: "person", 1: "bicycle"})
    parsed = formats.read(yml)
    assert sorted(parsed.annotations["type"]) == ["bicycle", "bicycle", "person", "person"]
    assert set(parsed.images["name"]) == {"train.jpg", "val.jpg"}


def test_a_path_key_from_another_machine_falls_back_to_the_yaml_folder(tmp_path):
    make_split(tmp_path, "train", 2)
    write_yaml(tmp_path / "data.yaml", path="/mnt/someone-else/datasets/cells", train="train/images")
    parsed = formats.read(tmp_path / "data.yaml")
    assert len(parsed.annotations) == 2
    assert any("/mnt/someone-else/datasets/cells" in w and "does not exist here" in w for w in parsed.warnings)


def test_absolute_split_paths_from_another_machine_are_found_by_their_tail(tmp_path):
    make_split(tmp_path, "train", 2)
    make_split(tmp_path, "valid", 1)
    write_yaml(tmp_path / "data.yaml", train="/home/bob/work/cells/train/images",
               val="C:\\Users\\bob\\cells\\valid\\images")
    parsed = formats.read(tmp_path)
    assert len(parsed.annotations) == 3


def test_labels_beside_the_images(tmp_path):
    make_split(tmp_path, "train", 2, labels_beside=True)
    write_yaml(tmp_path / "data.yaml", train="train/images")
    parsed = formats.read(tmp_path)
    assert len(parsed.annotations) == 2 and set(parsed.images["name"]) == {"train_0.jpg", "train_1.jpg"}


def test_image_list_files_count_dot_slash_from_the_list(tmp_path):
    make_split(tmp_path, "train", 3)
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "train.txt").write_text("../train/images/train_0.jpg\n/elsewhere/train/images/train_1.jpg\n")
    (tmp_path / "train" / "subset.txt").write_text("./images/train_2.jpg\n")
    write_yaml(tmp_path / "data.yaml", train=["lists/train.txt", "train/subset.txt"])
    parsed = formats.read(tmp_path)
    assert sorted(parsed.images["name"]) == ["train_0.jpg", "train_1.jpg", "train_2.jpg"]
    assert len(parsed.annotations) == 3


def test_a_split_that_resolves_nowhere_is_refused_with_the_paths_tried(tmp_path):
    make_split(tmp_path, "train", 1)
    write_yaml(tmp_path / "data.yaml", train="../train/images", val="../valid/images")
    with pytest.raises(FormatError) as err:
        formats.read(tmp_path)
    msg = str(err.value)
    assert "data.yaml" in msg and "key 'val'" in msg and "'../valid/images' does not resolve" in msg
    for tried in ("valid/images", "val/images", "validation/images"):
        assert str(tmp_path / tried) in msg, tried


def test_images_without_any_label_file_are_refused_saying_where_labels_were_looked_for(tmp_path):
    make_split(tmp_path, "train", 2)
    shutil.rmtree(tmp_path / "train" / "labels")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "train_0.txt").write_text(BOX + "\n")
    write_yaml(tmp_path / "data.yaml", train="train/images")
    with pytest.raises(FormatError) as err:
        formats.read(tmp_path)
    msg = str(err.value)
    assert "no annotations found" in msg and "none of the 2 images" in msg
    assert str(tmp_path / "train" / "labels" / "train_0.txt") in msg and str(tmp_path / "train" / "images" / "train_0.txt") in msg


def test_label_files_that_are_all_empty_are_an_error_not_a_quiet_zero(tmp_path):
    make_split(tmp_path, "train", 2, lines=())
    write_yaml(tmp_path / "data.yaml", train="train/images")
    with pytest.raises(FormatError, match=r"no annotations found: 2 label file\(s\) such as .*train_0.txt hold no label line"):
        formats.read(tmp_path)


def test_a_yaml_of_labels_only_reads_the_labels_folder(tmp_path):
    """exact-lab's own export (and others) write labels/<split>/ without the images."""
    (tmp_path / "labels" / "train").mkdir(parents=True)
    (tmp_path / "labels" / "train" / "a.txt").write_text(BOX + "\n")
    write_yaml(tmp_path / "data.yaml", path=".", train="images/train")
    import pandas as pd

    parsed = formats.read(tmp_path, images=pd.DataFrame({"name": ["a.png"], "width": [40], "height": [20]}))
    assert parsed.annotations.geometry[0].bounds == (15, 5, 25, 15)
    assert any("are not here" in w for w in parsed.warnings)


def test_a_loose_folder_without_label_files_is_refused(tmp_path):
    (tmp_path / "classes.txt").write_text("cell\n")
    Image.new("RGB", (40, 20)).save(tmp_path / "a.jpg")
    with pytest.raises(FormatError, match="no annotations found: expected YOLO label files"):
        formats.read(tmp_path, "yolo")


def test_a_names_mismatch_and_a_bad_kpt_shape_name_the_key(tmp_path):
    make_split(tmp_path, "train", 1)
    write_yaml(tmp_path / "data.yaml", train="train/images", nc=3)
    with pytest.raises(FormatError, match="data.yaml, key 'nc': says 3 classes but 'names' lists 1"):
        formats.read(tmp_path)
    write_yaml(tmp_path / "data.yaml", train="train/images", kpt_shape="17x3")
    with pytest.raises(FormatError, match="key 'kpt_shape': expected \\[keypoints, 2 or 3\\]"):
        formats.read(tmp_path)


# --- the real YOLO files, laid out as Roboflow and Ultralytics exports ---------------------------

def _label_lines(folder: Path) -> int:
    return sum(1 for f in folder.rglob("*.txt") for ln in f.read_text().splitlines() if ln.strip())


def test_label_studio_files_as_a_roboflow_export(annotations_dir, tmp_path):
    """The seven real images and labels split into train/ and valid/ the way Roboflow exports."""
    src = annotations_dir / "yolo/label_studio_import_yolo_data"
    images = sorted((src / "images").iterdir())
    for i, img in enumerate(images):
        split = "valid" if i >= 5 else "train"
        for kind, f in (("images", img), ("labels", src / "labels" / f"{img.stem}.txt")):
            (tmp_path / split / kind).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, tmp_path / split / kind / f.name)
    names = (src / "classes.txt").read_text().split()
    write_yaml(tmp_path / "data.yaml", train="../train/images", val="../valid/images", nc=len(names), names=names)
    parsed = formats.read(tmp_path)
    direct = formats.read(src)
    assert len(parsed.annotations) == _label_lines(src / "labels") == len(direct.annotations)
    def boxes(ann):
        return sorted((r.image, r.type, *np.round(r.geometry.bounds, 6)) for r in ann.itertuples())

    assert boxes(parsed.annotations) == boxes(direct.annotations)


def test_datumaro_labels_folder_with_an_ultralytics_yaml(annotations_dir, tmp_path):
    src = annotations_dir / "yolo/datumaro_yolo_dataset/labels"
    shutil.copytree(src, tmp_path / "ds")
    names = (src / "obj.names").read_text().split()
    write_yaml(tmp_path / "ds" / "data.yaml", path=".", train="images/train", val="images/val", names=names)
    parsed = formats.read(tmp_path / "ds")
    assert len(parsed.annotations) == _label_lines(src / "labels") == 4
    row = parsed.annotations.iloc[0]
    assert row.type == "label_2"
    np.testing.assert_allclose(row.geometry.bounds, [0, 2, 4, 4], atol=1e-4)
