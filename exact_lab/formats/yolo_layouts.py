"""Where a YOLO dataset keeps its files: Ultralytics' ``data.yaml``, Darknet's ``obj.data``, or a
loose folder of label files beside a names file. Each gives a ``Dataset``: the class names and the
(label file, image file) pairs; the label lines themselves are read in ``yolo.py``.

Ultralytics resolves a ``data.yaml`` like this (``check_det_dataset`` and ``img2label_paths`` in
its ``data/utils.py``), and so does this module:
- the dataset root is the yaml's ``path``, else the yaml's folder;
- a split (``train``, ``val``, ``test``, ``minival``) is a folder of images, a text file listing
  images, or a list of those, relative to the root; a split written ``../x`` that does not exist
  is tried as ``x`` (Roboflow writes ``train: ../train/images`` beside a ``train/`` folder);
- an image's label file is its path with the last ``images`` folder replaced by ``labels`` and the
  suffix by ``.txt``.
For exports that travelled between tools and machines, also: a relative ``path`` counts from the
yaml's folder, and one that does not exist here falls back to that folder; ``valid``, ``val`` and
``validation`` stand for each other; an absolute path from another machine is found by its tail
under the root; a label file beside its image is found too. A split that resolves to nothing is
refused with every path that was tried, and a dataset whose images have no label file at all is
refused with where the labels were looked for: never an import of nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ._common import fail, read_text

RASTER = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
SPLITS = ("train", "val", "test", "minival")
NAMES_FILES = ("obj.names", "classes.txt", "classes.names", "labels.txt")
# Text files of a YOLO folder that are not label files.
NOT_LABELS = {"train.txt", "valid.txt", "val.txt", "test.txt", "readme.txt", *NAMES_FILES}
_VALIDATION = ("valid", "val", "validation")


@dataclass
class Dataset:
    root: Path
    names: list[str]
    pairs: list[tuple[Path | None, Path | None]]  # (label file, image file); either may be missing
    kpt_shape: tuple[int, int] | None = None
    warnings: list[str] = field(default_factory=list)


def find_dataset(p: Path, classes) -> Dataset:
    """The dataset at a ``data.yaml``, an ``obj.data``, or a folder holding either (or neither)."""
    if p.is_file() and p.suffix.lower() in (".yaml", ".yml"):
        return ultralytics(p)
    if p.is_file() and p.name == "obj.data":
        return darknet(p)
    for name in ("data.yaml", "dataset.yaml"):
        if (p / name).is_file():
            return ultralytics(p / name)
    if (p / "obj.data").is_file():
        return darknet(p / "obj.data")
    return loose(p, classes)


def names_file(path) -> list[str]:
    return [ln.strip() for ln in read_text(path).splitlines() if ln.strip()]


def find_names(root: Path, classes) -> tuple[list[str], Path | None]:
    if classes is not None:
        if isinstance(classes, (list, tuple)):
            return [str(c) for c in classes], None
        return names_file(classes), Path(classes)
    for name in NAMES_FILES:
        hits = sorted(root.rglob(name))
        if hits:
            return names_file(hits[0]), hits[0]
    raise fail(root, None, "expected a class names file (obj.names or classes.txt) or classes=")


# --- loose folders ------------------------------------------------------------------------------

def loose(root: Path, classes, names: list[str] | None = None) -> Dataset:
    """Label files anywhere under ``root``, each paired with the image of the same stem."""
    names_path = None
    if names is None:
        names, names_path = find_names(root, classes)
    labels = [f for f in sorted(root.rglob("*.txt"))
              if (names_path is None or f.resolve() != names_path.resolve()) and f.name.lower() not in NOT_LABELS]
    if not labels:
        raise fail(root, None, "no annotations found: expected YOLO label files (*.txt) beside the class names "
                   f"({names_path.name if names_path else 'classes='}), e.g. labels/<image>.txt")
    index = _image_index(root)
    return Dataset(root, names, [(lab, image_for_label(lab, root, index)) for lab in labels])


def _image_index(root: Path) -> dict:
    """stem -> image files under root (to find the image a label file belongs to)."""
    index: dict = {}
    for f in root.rglob("*"):
        if f.suffix.lower() in RASTER and f.is_file():
            index.setdefault(f.stem, []).append(f)
    return index


def image_for_label(label: Path, root: Path, index: dict) -> Path | None:
    cands = index.get(label.stem, [])
    if len(cands) <= 1:
        return cands[0] if cands else None
    # The image whose path mirrors the label's (labels/ <-> images/, Annotations/ <-> Images/).
    rel = str(label.relative_to(root).parent).lower()
    for swap in (("labels", "images"), ("annotations", "images"), ("labels", "")):
        want = rel.replace(*swap)
        for c in cands:
            if str(c.relative_to(root).parent).lower() == want:
                return c
    for c in cands:
        if c.parent == label.parent:
            return c
    return cands[0]


# --- Darknet ------------------------------------------------------------------------------------

def darknet(obj_data: Path) -> Dataset:
    root = obj_data.parent
    conf = {}
    for n, line in enumerate(read_text(obj_data).splitlines(), 1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        if "=" not in line:
            raise fail(obj_data, f"line {n}", f"expected 'key = value', got {line.strip()[:40]!r}")
        k, v = line.split("=", 1)
        conf[k.strip()] = v.strip()
    names_path = local_file(root, conf.get("names", "obj.names"))
    if names_path is None:
        raise fail(obj_data, "key 'names'", f"names file {conf.get('names')!r} not found")
    names = names_file(names_path)
    if "classes" in conf and conf["classes"].isdigit() and int(conf["classes"]) != len(names):
        raise fail(obj_data, "key 'classes'", f"says {conf['classes']} classes but {names_path.name} lists {len(names)}")
    images = []
    for key in ("train", "valid", "test"):
        if key not in conf:
            continue
        listing = local_file(root, conf[key])
        if listing is None:
            raise fail(obj_data, f"key {key!r}", f"image list {conf[key]!r} not found")
        for n, line in enumerate(read_text(listing).splitlines(), 1):
            if line.strip():
                img = local_file(root, line.strip())
                if img is None:
                    raise fail(listing, f"line {n}", f"image {line.strip()!r} not found")
                images.append(img)
    return _with_labels(obj_data, root, names, images, [str(obj_data.name)])


def local_file(root: Path, ref: str) -> Path | None:
    """A path written inside a dataset file: relative to ``root``, or a path from another machine
    (or with Darknet's ``data/`` prefix) found by its longest tail that exists under ``root``. A
    tail of one part must be a file: ``/elsewhere/train/images`` is not ``root/images``."""
    ref = ref.replace("\\", "/")
    if Path(ref).is_absolute() and Path(ref).exists():
        return Path(ref)
    parts = [part for part in Path(ref).parts if part not in ("/", "")]
    for k in range(len(parts)):
        tail = parts[k:]
        if ".." in tail:
            continue
        cand = root.joinpath(*tail)
        if cand.is_file() or (cand.is_dir() and (len(tail) > 1 or len(parts) == 1)):
            return cand
    return None


def label_candidates(image: Path) -> list[Path]:
    """Where an image's label file may be: Ultralytics' (the last ``images`` folder replaced by
    ``labels``), then beside the image (Darknet, CVAT's exports)."""
    parts = list(image.parts)
    out = []
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            out.append(Path(*parts).with_suffix(".txt"))
            break
    out.append(image.with_suffix(".txt"))
    return out


def _with_labels(source: Path, root: Path, names, images, where: list[str], kpt_shape=None,
                 label_only: list[Path] = ()) -> Dataset:
    """Pair each image with its label file (and add label files whose images are not here);
    refuse a dataset none of whose images has one."""
    pairs = [(next((c for c in label_candidates(img) if c.is_file()), None), img) for img in images]
    pairs += [(label, None) for label in label_only]
    if not any(label for label, _ in pairs):
        tried = label_candidates(images[0]) if images else []
        raise fail(source, None, f"no annotations found: none of the {len(images)} images of {', '.join(where)} has a "
                   f"label file; looked for {' and '.join(str(t) for t in tried)} (and the same for every image)")
    return Dataset(root, names, pairs, kpt_shape)


# --- Ultralytics --------------------------------------------------------------------------------

def ultralytics(yaml_path: Path) -> Dataset:
    conf = _load_yaml(yaml_path)
    names = _yaml_names(yaml_path, conf)
    kpt_shape = _kpt_shape(yaml_path, conf.get("kpt_shape"))
    root, warnings = _dataset_root(yaml_path, conf.get("path"))
    images, label_only, where = [], [], []
    for key in SPLITS:
        entries = conf.get(key)
        if not entries:
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, str) or not entry.strip():
                raise fail(yaml_path, f"key {key!r}", f"expected a folder, an image list file or a list of them, got {entry!r}")
            found, tried = resolve_split(root, entry.strip())
            if found is None:
                labels = _labels_without_images(root, entry.strip())
                if labels is None:
                    raise fail(yaml_path, f"key {key!r}", f"{entry!r} does not resolve to a folder or an image list; "
                               f"tried {', '.join(tried)}")
                warnings.append(f"{yaml_path.name}: the images of {key} ({entry!r}) are not here; "
                                f"the label files of {labels} are read without them")
                label_only += sorted(labels.rglob("*.txt"))
                where.append(f"{key} ({labels})")
                continue
            if found != root / entry.strip():
                warnings.append(f"{yaml_path.name}: {key} {entry!r} read from {found}")
            split_images = _split_images(yaml_path, key, root, found)
            if not split_images:
                raise fail(yaml_path, f"key {key!r}", f"no images ({', '.join(sorted(RASTER))}) in {found}")
            images += split_images
            where.append(f"{key} ({found})")
    if not where:  # no splits named: the label files under the root, as in a loose folder
        dataset = loose(root, None, names=names)
        dataset.kpt_shape = kpt_shape
    else:
        dataset = _with_labels(yaml_path, root, names, images, where, kpt_shape, label_only)
    dataset.warnings = warnings + dataset.warnings
    return dataset


def _labels_without_images(root: Path, entry: str) -> Path | None:
    """The label folder of a split whose image folder is missing (an export of labels only, such
    as exact-lab's own): the split's path with ``images`` replaced by ``labels``."""
    for spelling in _spellings(entry):
        parts = spelling.replace("\\", "/").split("/")
        if "images" not in parts:
            continue
        i = len(parts) - 1 - parts[::-1].index("images")
        labels = "/".join([*parts[:i], "labels", *parts[i + 1:]])
        found = root / labels if (root / labels).is_dir() else local_file(root, labels)
        if found is not None and found.is_dir() and any(found.rglob("*.txt")):
            return found
    return None


def _load_yaml(yaml_path: Path) -> dict:
    try:
        conf = yaml.safe_load(read_text(yaml_path)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        raise fail(yaml_path, where, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(conf, dict) or "names" not in conf:
        raise fail(yaml_path, "key 'names'", "expected a YAML mapping with 'names'")
    return conf


def _yaml_names(yaml_path: Path, conf: dict) -> list[str]:
    raw = conf["names"]
    if isinstance(raw, dict):
        try:
            ids = [int(k) for k in raw]
        except (TypeError, ValueError):
            raise fail(yaml_path, "key 'names'", "expected integer class ids as keys") from None
        if min(ids, default=0) < 0 or max(ids, default=0) > 100_000:
            raise fail(yaml_path, "key 'names'", "expected class ids from 0 to 100000")
        names = [str(raw.get(i, raw.get(str(i), f"class {i}"))) for i in range(max(ids, default=-1) + 1)]
    elif isinstance(raw, list):
        names = [str(x) for x in raw]
    else:
        raise fail(yaml_path, "key 'names'", f"expected a list or a mapping, got {type(raw).__name__}")
    nc = conf.get("nc")
    if nc is not None and nc != len(names):
        raise fail(yaml_path, "key 'nc'", f"says {nc!r} classes but 'names' lists {len(names)}")
    return names


def _kpt_shape(yaml_path: Path, value) -> tuple[int, int] | None:
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                  for v in value) or value[0] < 1 or value[1] not in (2, 3)):
        raise fail(yaml_path, "key 'kpt_shape'", f"expected [keypoints, 2 or 3], got {value!r}")
    return value[0], value[1]


def _dataset_root(yaml_path: Path, path) -> tuple[Path, list[str]]:
    folder = yaml_path.parent
    if path is None or path == "":
        return folder, []
    root = folder / str(path)  # an absolute path stays absolute
    if root.is_dir():
        return root, []
    return folder, [f"{yaml_path.name}: path {path!r} does not exist here; the yaml's folder is the dataset root"]


def resolve_split(root: Path, entry: str) -> tuple[Path | None, list[str]]:
    """The folder or list file a split names, or None and every place that was tried."""
    tried: list[str] = []
    for spelling in _spellings(entry):
        direct = [root / spelling]
        if spelling.startswith("../"):
            direct.append(root / spelling[3:])
        for cand in direct:
            if cand.exists():
                return cand, tried
            tried.append(str(cand))
    for spelling in _spellings(entry):
        found = local_file(root, spelling)
        if found is not None:
            return found, tried
    tried.append(f"the tails of {entry!r} under {root}")
    return None, list(dict.fromkeys(tried))


def _spellings(entry: str) -> list[str]:
    """``entry`` and the same path with its validation folder spelled the other ways."""
    parts = entry.replace("\\", "/").split("/")
    out = [entry]
    for i, part in enumerate(parts):
        if part.lower() in _VALIDATION:
            out += ["/".join([*parts[:i], other, *parts[i + 1:]]) for other in _VALIDATION if other != part.lower()]
    return out


def _split_images(yaml_path: Path, key: str, root: Path, found: Path) -> list[Path]:
    if found.is_dir():
        return sorted(f for f in found.rglob("*") if f.suffix.lower() in RASTER and f.is_file())
    images = []
    for n, line in enumerate(read_text(found).splitlines(), 1):
        ref = line.strip()
        if not ref:
            continue
        # "./x.jpg" counts from the list file's folder (Ultralytics' rule); others from the root
        img = (found.parent / ref) if ref.startswith("./") else local_file(root, ref)
        if img is None or not img.exists():
            raise fail(found, f"line {n}", f"image {ref!r} not found under {root}")
        images.append(img)
    return images
