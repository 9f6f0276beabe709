"""Making a virtual slide of patches: read every window into one canvas, write it, register it,
draw each source annotation on it, and keep the mapping table beside it."""

from __future__ import annotations

import mmap
import uuid as _uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from . import state, virtual
from .reading import read_all_patches
from .transform import to_map

MAP_SOURCE = "exact-lab map"


def select_annotations(project, *, types=None, image=None, image_set=None, version=None, user=None) -> pd.DataFrame:
    """Annotations of real images (never of virtual slides) for a map, with geometry."""
    frame = project.annotations(image=image, image_set=image_set, types=types, version=version, user=user)
    virtual_ids = virtual_image_ids(project)
    frame = frame[~frame["image_id"].isin(virtual_ids)]
    return frame[frame["geometry"].notna()].reset_index(drop=True)


def virtual_image_ids(project) -> set[int]:
    images = project.images()
    kinds = images["meta"].map(lambda m: m.get("kind") if isinstance(m, dict) else None)
    return set(images.loc[kinds.isin(virtual.KINDS), "image_id"].astype(int))


def as_annotations(project, annotations) -> pd.DataFrame:
    """A frame of annotations (as ``proj.annotations`` returns) or a list of uuids."""
    if isinstance(annotations, pd.DataFrame):
        needed = {"uuid", "image_id", "type", "geometry", "xmin", "ymin", "xmax", "ymax"}
        missing = needed - set(annotations.columns)
        if missing:
            raise InvalidValueError(f"the annotations frame lacks {', '.join(sorted(missing))} (pass rows of proj.annotations())")
        return annotations.reset_index(drop=True)
    given = [annotations] if isinstance(annotations, str) else list(annotations)
    try:
        uuids = [str(_uuid.UUID(str(u))) for u in given]
    except ValueError:
        raise InvalidValueError(f"{next(u for u in given if not _is_uuid(u))!r} is not a uuid") from None
    frame = project.annotations(uuids=uuids).set_index("uuid")
    missing = [u for u in uuids if u not in frame.index]
    if missing:
        raise InvalidValueError(f"no annotation {missing[0]} in this project (or it is deleted)")
    return frame.loc[uuids].reset_index()  # in the order given


def _is_uuid(value) -> bool:
    try:
        _uuid.UUID(str(value))
        return True
    except ValueError:
        return False


def white_canvas(width: int, height: int) -> np.ndarray:
    """An H x W x 3 uint8 array of white. Its pages are faulted in by the kernel in one go
    (MAP_POPULATE): touching fresh memory page by page cost 2.1-4.7 s for a 450 MB map here,
    populating it 0.5 s."""
    size = width * height * 3
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
    try:
        buffer = mmap.mmap(-1, size, flags=flags)
    except (OSError, ValueError, AttributeError):  # platforms without anonymous mmap flags
        return np.full((height, width, 3), 255, dtype=np.uint8)
    canvas = np.frombuffer(buffer, dtype=np.uint8).reshape(height, width, 3)
    canvas.fill(255)
    return canvas


def paint(project, windows: pd.DataFrame, origins: np.ndarray, size: tuple[int, int], *, workers: int) -> np.ndarray:
    """The map's pixels: every window's patch pasted at its origin on white."""
    width, height = size
    canvas = white_canvas(width, height)
    images = project.images(ids=sorted(int(i) for i in pd.unique(windows["image_id"])))
    out_w = windows["out_w"].to_numpy()
    out_h = windows["out_h"].to_numpy()

    def paste(i: int, patch: np.ndarray) -> None:  # patches never overlap: safe in several threads
        x, y = origins[i]
        canvas[y:y + out_h[i], x:x + out_w[i]] = patch

    read_all_patches(images, windows, paste, workers=workers, in_threads=True)
    return canvas


def make_map(project, annotations: pd.DataFrame, windows: pd.DataFrame, origins: np.ndarray, size: tuple[int, int], *,
             kind: str, extra: pd.DataFrame | None = None, params: dict | None = None,
             decorate: Callable[[np.ndarray], None] | None = None, compression: str = virtual.DEFAULT_COMPRESSION,
             workers: int = 4):
    """Build and register a virtual slide; returns the map object of ``kind``."""
    from .maps import map_class

    if annotations.empty:
        raise InvalidValueError("no annotations to make a map of (check types=, image_set=, version=)")
    canvas = paint(project, windows, origins, size, workers=workers)
    if decorate is not None:
        decorate(canvas)
    folder = virtual.virtual_folder(project)
    name = virtual.new_name(kind)
    tiff = virtual.write_pyramid(canvas, folder / f"{name}.tiff", mpp=_common_mpp(project, windows), compression=compression)
    del canvas
    mapping = windows[["uuid", "image_id", "type", "src_x0", "src_y0", "src_w", "src_h", "scale_x", "scale_y"]].copy()
    mapping.insert(0, "map_uuid", None)
    mapping["map_x0"] = origins[:, 0]
    mapping["map_y0"] = origins[:, 1]
    mapping["map_x1"] = origins[:, 0] + windows["out_w"].to_numpy()
    mapping["map_y1"] = origins[:, 1] + windows["out_h"].to_numpy()
    if extra is not None:
        for column in extra.columns:
            mapping[column] = extra[column].to_numpy()
    mapping_path = folder / f"{name}.mapping.parquet"
    image_id = virtual.register(project, tiff, kind, {"mapping": mapping_path.name, "name": name,
                                                      "patches": len(mapping), **(params or {})})
    drawn = _draw(project, image_id, annotations, mapping, name)
    mapping["map_uuid"] = drawn["uuid"].to_numpy()
    mapping.to_parquet(mapping_path, index=False)
    state.write_initial(folder / name, drawn)
    return map_class(kind)(project, image_id, mapping, Path(tiff))


def _draw(project, image_id: int, annotations: pd.DataFrame, mapping: pd.DataFrame, name: str) -> pd.DataFrame:
    """One map annotation per source annotation: same type, geometry in map pixels. Returns them
    as written (uuid, type, geometry, deleted) without reading 100,000 rows back."""
    rows = pd.DataFrame({
        "image_id": image_id,
        "type": annotations["type"].to_numpy(),
        "geometry": to_map(annotations["geometry"].to_numpy(), mapping),
        "source": MAP_SOURCE,
        "meta": [{"source_uuid": u, "map": name} for u in annotations["uuid"]],
    })
    uuids = project.add_annotations(rows)
    return rows.assign(uuid=np.asarray(uuids, dtype=object), deleted=False)


def _common_mpp(project, windows: pd.DataFrame) -> float | None:
    """The sources' microns per pixel when every patch keeps it (no resampling), else None."""
    if not np.allclose(windows[["scale_x", "scale_y"]].to_numpy(dtype=float), 1.0):
        return None
    images = project.images(ids=sorted(int(i) for i in pd.unique(windows["image_id"])))
    mpps = images["mpp"].dropna()
    return float(mpps.median()) if len(mpps) and np.allclose(mpps, mpps.iloc[0], rtol=0.05) else None
