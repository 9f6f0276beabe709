"""Map objects: a virtual slide of patches with its mapping table, edits that flow back, and the way
from a patch to its source image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InvalidValueError, UnknownImageError
from . import sync as _sync
from . import virtual


class AnnotationMap:
    """Crops of annotations laid out on a virtual slide (``image_id``), one per source annotation.

    ``mapping`` has one row per patch: ``map_uuid`` (the annotation drawn on the map), ``uuid``,
    ``image_id`` and ``type`` of the source, the patch rectangle ``map_x0, map_y0, map_x1, map_y1``
    (map pixels, end exclusive), the source window ``src_x0, src_y0, src_w, src_h`` (level-0 pixels)
    and ``scale_x, scale_y`` (source pixels per map pixel).
    """

    kind = "annotation_map"

    def __init__(self, project, image_id: int, mapping: pd.DataFrame, path: Path):
        self.project = project
        self.image_id = int(image_id)
        self.mapping = mapping
        self.path = Path(path)

    @property
    def stem(self) -> Path:
        """The virtual slide's path without its suffix; the state files are named from it."""
        return self.path.with_suffix("")

    # -- looking ------------------------------------------------------------------------------
    def viewer(self, **kwargs):
        """A SlideViewer on the map (its annotations are the map annotations)."""
        return self.project.viewer(self.image_id, **kwargs)

    def patch_at(self, map_xy) -> pd.Series | None:
        """The mapping row of the patch under map pixel (x, y), or None between patches."""
        x, y = map_xy
        m = self.mapping
        hit = (m["map_x0"] <= x) & (x < m["map_x1"]) & (m["map_y0"] <= y) & (y < m["map_y1"])
        return m[hit].iloc[0] if hit.any() else None

    def select(self, uuids=None, *, box=None, polygon=None) -> pd.DataFrame:
        """Mapping rows by map (or source) uuids, or whose patch centre lies in a map-pixel box
        (x0, y0, x1, y1) or lasso polygon (a shapely polygon or a list of (x, y))."""
        return _sync.select(self.mapping, uuids=uuids, box=box, polygon=polygon)

    def locate(self, target) -> dict:
        """Where to look in the source for a patch: ``target`` is a map annotation uuid, a source
        uuid, or a map pixel (x, y). Returns image_id, the centre (x, y) of the source annotation in
        level-0 pixels, ``zoom`` (screen pixels per image pixel that shows it as large as the map
        does) and the source window ``bbox``."""
        if isinstance(target, str):
            row = self.select(uuids=[target]).iloc[0]
        else:
            row = self.patch_at(target)
            if row is None:
                raise InvalidValueError(f"no patch under map pixel {tuple(target)}")
        x = row["src_x0"] + row["src_w"] / 2
        y = row["src_y0"] + row["src_h"] / 2
        return {
            "image_id": int(row["image_id"]), "uuid": row["uuid"], "map_uuid": row["map_uuid"],
            "x": float(x), "y": float(y), "zoom": float(1.0 / max(row["scale_x"], row["scale_y"])),
            "bbox": (float(row["src_x0"]), float(row["src_y0"]),
                     float(row["src_x0"] + row["src_w"]), float(row["src_y0"] + row["src_h"])),
        }

    def open_source(self, target, **kwargs):
        """A viewer on the source image, centred on the patch's annotation."""
        where = self.locate(target)
        viewer = self.project.viewer(where["image_id"], **kwargs)
        viewer.goto(where["x"], where["y"], zoom=where["zoom"])
        return viewer

    def read_patch(self, target) -> np.ndarray:
        """The map's pixels of one patch (H x W x 3 uint8), read back from the virtual slide."""
        from ..slides import open_slide
        from .reading import to_rgb

        row = self.select(uuids=[target]).iloc[0] if isinstance(target, str) else target
        x0, y0 = int(row["map_x0"]), int(row["map_y0"])
        size = (int(row["map_x1"]) - x0, int(row["map_y1"]) - y0)
        return to_rgb(open_slide(self.path).read_region((x0, y0), 0, size))

    # -- edits flow back ---------------------------------------------------------------------
    def sync(self, uuids=None) -> _sync.SyncReport:
        """Pass every edit made on the map since the last sync to the source annotations: type,
        deletion, geometry (back in source coordinates) and each user's verify / reject.
        ``uuids``: only these map annotations (a viewer passes what a commit changed)."""
        return _sync.sync(self, uuids=uuids)

    def apply_edits(self, edits) -> _sync.SyncReport:
        """Edit map annotations (rows: ``uuid`` of the map annotation and any of ``type``,
        ``geometry`` in map pixels, ``deleted``, ``verified``) and pass the edits to the sources."""
        return _sync.apply_edits(self, edits)

    def relabel(self, type: str, uuids=None, *, box=None, polygon=None) -> _sync.SyncReport:
        """Give every chosen patch (map uuids, or a map box / lasso polygon) the type ``type``,
        on the map and in the source."""
        rows = self.select(uuids=uuids, box=box, polygon=polygon)
        return self.apply_edits(pd.DataFrame({"uuid": rows["map_uuid"], "type": type}))

    def delete(self, uuids=None, *, box=None, polygon=None) -> _sync.SyncReport:
        rows = self.select(uuids=uuids, box=box, polygon=polygon)
        return self.apply_edits(pd.DataFrame({"uuid": rows["map_uuid"], "deleted": True}))

    def verify(self, uuids=None, *, box=None, polygon=None, verified: bool = True) -> _sync.SyncReport:
        rows = self.select(uuids=uuids, box=box, polygon=polygon)
        return self.apply_edits(pd.DataFrame({"uuid": rows["map_uuid"], "verified": verified}))

    def __len__(self):
        return len(self.mapping)

    def __repr__(self):
        return f"<{type(self).__name__} image_id={self.image_id} patches={len(self.mapping)}>"


class DensityMap(AnnotationMap):
    """Patches ordered by a score on the x axis and stacked on y; ``mapping`` also has ``score`` and ``bin``."""

    kind = "density_map"


class ClusterMap(AnnotationMap):
    """Patches placed near their embedded position; ``embedding`` is the N x 2 layout input and
    ``mapping`` also has ``embed_x, embed_y, col, row``."""

    kind = "cluster_map"

    @property
    def embedding(self) -> np.ndarray:
        return self.mapping[["embed_x", "embed_y"]].to_numpy()


_CLASSES = {cls.kind: cls for cls in (AnnotationMap, DensityMap, ClusterMap)}


def map_class(kind: str):
    return _CLASSES[kind]


def _map_meta(record) -> dict | None:
    meta = record.get("meta")
    if isinstance(meta, str):
        import json

        meta = json.loads(meta)
    return meta if (meta or {}).get("kind") in virtual.KINDS else None


def find_map(project, image) -> AnnotationMap | None:
    """The map object of ``image`` when it is a virtual slide the analysis room made, else None
    (a viewer asks this of every image it opens; an unknown image still raises)."""
    record = project.image(image)
    meta = _map_meta(record)
    return None if meta is None else _open(project, record, meta)


def open_map(project, image) -> AnnotationMap:
    """The map object of a virtual slide the analysis room made (by image id or name)."""
    record = project.image(image)
    meta = _map_meta(record)
    if meta is None:
        raise UnknownImageError(f"image {image!r} is not a map (its meta has no analysis kind)")
    return _open(project, record, meta)


def _open(project, record, meta: dict) -> AnnotationMap:
    kind = meta["kind"]
    path = Path(record["path"])
    mapping = pd.read_parquet(path.with_name(meta["mapping"]))
    return map_class(kind)(project, int(record["image_id"]), mapping, path)
