"""What every reader and writer shares: the parsed-file container, the canonical annotation
columns, errors that name the file and the place, and image-size look-ups.

Readers are pure: file(s) -> Parsed. Nothing touches the store until the whole file parsed, so a
bad file can never leave half an import behind.
"""

from __future__ import annotations

import gc
import os
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..errors import FormatError
from ..shared import json_default

# Columns a reader fills; ``shape`` is the reader's own word for the drawn shape (box, ellipse,
# polygon, mask, point, line, polyline, global) and is used only to pick annotation types.
TABLE_COLUMNS = [
    "image", "type", "geometry", "shape", "frame", "score", "source", "description",
    "meta", "uuid", "concealed", "blurred",
]
IMAGE_COLUMNS = ["name", "width", "height", "meta"]

# The class name for shapes that carry no class at all (QuPath's unclassified objects, ASAP's
# "None" group, CVAT's empty label). Writers turn it back into "no class".
UNCLASSIFIED = "unclassified"

IMAGE_SUFFIXES = {
    ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".svs", ".ndpi",
    ".mrxs", ".scn", ".vms", ".vmu", ".bif", ".czi", ".dcm", ".jp2",
}


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector (also as a decorator: ``@gc_paused()``).

    Reading and writing an annotation file makes millions of small dicts and lists, none of them
    in a reference cycle; each few hundred allocations the collector walks all that are alive
    again. On a 130 MB COCO file that was 2.5 of the 3.6 s that parsing the JSON took.
    Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Parsed:
    """One parsed file: annotations in canonical columns, the images it names, its classes.

    A reader of a big box-only file may hand over ``boxes`` ((n, 4) xmin, ymin, xmax, ymax) and
    leave the geometry column empty: the shapes are built only when someone reads
    ``.annotations`` (an import passes the box columns to the store, which never needs them).

    ``searched`` is set by readers that look through a folder or a dataset for annotation files:
    what they found, for the error when none of it held an annotation (``_checks.check_parsed``).
    """

    def __init__(self, annotations, images=None, types=None, warnings=None, skipped=0, boxes=None,
                 searched=None):
        self._annotations = annotations
        self.images = images if images is not None else image_table([])
        self.types = types if types is not None else {}
        self.warnings = warnings if warnings is not None else []
        self.skipped = skipped
        self.boxes = boxes
        self.searched = searched

    @property
    def annotations(self) -> pd.DataFrame:
        if self.boxes is not None:
            b = self.boxes
            self._annotations["geometry"] = shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3])
            self.boxes = None
        return self._annotations

    @annotations.setter
    def annotations(self, value):
        self._annotations = value
        self.boxes = None

    @property
    def lazy_annotations(self) -> pd.DataFrame:
        """The table without building pending box geometry (see ``boxes``)."""
        return self._annotations


def searched_folder(path, files, kind: str) -> str | None:
    """``Parsed.searched`` of a reader that was given a folder: the files of it that it read."""
    if not Path(path).is_dir():
        return None
    shown = ", ".join(Path(f).name for f in files[:3]) + (", ..." if len(files) > 3 else "")
    return f"{len(files)} {kind} file(s) read in {path} ({shown}), none holds an annotation"


def fail(path, where, expected) -> FormatError:
    """An error naming the file, the place in it (line, key, element) and what was expected."""
    where = f", {where}" if where else ""
    return FormatError(f"{Path(path)}{where}: {expected}")


def table(rows: list[dict] | dict) -> pd.DataFrame:
    """Canonical annotation table from row dicts (or a dict of columns)."""
    df = pd.DataFrame(rows) if len(rows) else pd.DataFrame({c: [] for c in TABLE_COLUMNS})
    for col in TABLE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    # object columns: Python code iterates them, and pandas' Arrow strings iterate ~10x slower
    df = df[TABLE_COLUMNS].astype({"geometry": object, "meta": object, "image": object, "type": object,
                                   "shape": object})
    return df.reset_index(drop=True)


def image_table(rows) -> pd.DataFrame:
    df = pd.DataFrame(list(rows)) if len(rows) else pd.DataFrame({c: [] for c in IMAGE_COLUMNS})
    for col in IMAGE_COLUMNS:
        if col not in df.columns:
            df[col] = None
    df = df[IMAGE_COLUMNS].drop_duplicates(subset="name", keep="first")
    return df.reset_index(drop=True)


def image_size_from_file(path) -> tuple[int, int] | None:
    """(width, height) read from an image file's header, or None when it cannot be read."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            return int(im.width), int(im.height)
    except Exception:
        return None


def unique_names(rel_paths: list[str]) -> tuple[list[str], list[str]]:
    """Image names for files found under a folder: the bare file name, unless two files share
    it (YOLO subsets, SlideRunner directories), then the relative path keeps them apart."""
    base = [os.path.basename(p) for p in rel_paths]
    counts = pd.Series(base).value_counts()
    clashes = set(counts[counts > 1].index)
    names = [p.replace(os.sep, "/") if b in clashes else b for p, b in zip(rel_paths, base)]
    warnings = []
    if clashes:
        warnings.append(
            f"{len(clashes)} file name(s) occur in several folders ({', '.join(sorted(clashes)[:3])}"
            f"{'...' if len(clashes) > 3 else ''}); those images are named by their relative path"
        )
    return names, warnings


def read_text(path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(path, f"byte {exc.start}", "expected UTF-8 text") from None
    except OSError as exc:
        raise fail(path, None, f"cannot be read ({exc.strerror})") from None


def load_json(path):
    """Parse JSON with orjson when installed (several times faster on big COCO files)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise fail(path, None, f"cannot be read ({exc.strerror})") from None
    try:
        import orjson

        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            line, col = _line_col(data, exc.pos)
            raise fail(path, f"line {line} column {col}", f"not valid JSON ({exc.msg})") from None
    except ImportError:
        import json

        try:
            return json.loads(data.decode("utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise fail(path, f"line {exc.lineno} column {exc.colno}", f"not valid JSON ({exc.msg})") from None


def parse_xml(path):
    """The root element of an XML file. Expat never fetches external entities and refuses
    entity expansion that multiplies the input (billion laughs), so neither reaches a reader."""
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, col = exc.position
        raise fail(path, f"line {line} column {col}", f"not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    except OSError as exc:
        raise fail(path, None, f"cannot be read ({exc.strerror})") from None


def _line_col(data: bytes, pos: int) -> tuple[int, int]:
    pos = max(0, min(pos, len(data)))
    line = data.count(b"\n", 0, pos) + 1
    col = pos - (data.rfind(b"\n", 0, pos) + 1) + 1
    return line, col


def dump_json(obj, path, *, indent=False):
    """Write JSON (orjson when installed); numpy scalars and arrays are written as numbers."""
    try:
        import orjson

        opts = orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
        Path(path).write_bytes(orjson.dumps(obj, option=opts, default=json_default))
    except ImportError:
        import json

        Path(path).write_text(json.dumps(obj, indent=2 if indent else None, default=json_default))


def meta_of(value) -> dict:
    """A row's meta as a dict (the store gives dicts; None and NaN become {})."""
    return value if isinstance(value, dict) else {}


def fmt(x: float) -> str:
    """Shortest text that reads back as the same float."""
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 2**53 else repr(x)


def type_info(types: pd.DataFrame | None) -> dict:
    """name -> row dict of the project's annotation types (for writers)."""
    if types is None or len(types) == 0:
        return {}
    out = {}
    for row in types.to_dict("records"):
        row["meta"] = meta_of(row.get("meta"))
        out[row["name"]] = row
    return out


def source_label(type_row: dict | None, name: str) -> str:
    """The class name a file should carry: the label the type was imported from when an import
    split one label into several types (see _types.py), else the type's name."""
    if type_row:
        return type_row["meta"].get("source_label", name)
    return name


def image_for_file(path: Path, image, images, warnings) -> str:
    """The image a single-image annotation file (QuPath, ASAP) belongs to."""
    if image:
        return str(image)
    stem = path.name.split(".")[0]
    if images is not None and len(images):
        for n in images["name"]:
            if n == path.stem or n.split(".")[0] == stem or Path(n).stem == path.stem:
                return n
    warnings.append(f"{path.name} names no image; its annotations go to image {path.stem!r} (pass image=)")
    return path.stem


def is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
