"""The masks room's part of ``Project``: pixel labels read, written, counted, compared, restored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError, UnknownTypeError
from .region_fill import PolygonOp
from .tiles import TILE, MaskOp, check_labels, polygon_mask, stroke_mask, top_level
from .tilestore import TABLE, apply_ops, read_region, read_tiles
from .versions import changed_tiles, mask_diff, restore_masks


class MasksMixin:
    # -- the pieces -------------------------------------------------------------------------------
    def _mask_queue(self):
        queue = getattr(self, "_mask_queue_obj", None)
        if queue is None:
            from .queue import MaskQueue

            queue = self._mask_queue_obj = MaskQueue(self.session, self.user)
        return queue

    def mask_classes(self) -> pd.DataFrame:
        """The annotation types of vector type ``mask``: their ``type_id`` is the class index a
        pixel holds (0 = unlabelled)."""
        types = self.annotation_types()
        return types[types["vector_type"] == "mask"].reset_index(drop=True)

    def mask_class(self, type_) -> int:
        """The class index of a mask type given by name or id (0 and None: unlabelled)."""
        if type_ is None or (isinstance(type_, (int, np.integer)) and int(type_) == 0):
            return 0
        classes = self.mask_classes()
        for column in ("name", "type_id"):
            hit = classes[classes[column] == type_]
            if len(hit):
                return int(hit["type_id"].iat[0])
        known = ", ".join(classes["name"]) or "none yet"
        raise UnknownTypeError(f"no mask type {type_!r} (the project's mask types: {known})")

    def _mask_image(self, image, frame: int) -> tuple[int, int, int]:
        image_id, width, height, frames = self._mask_size(image)
        if not 0 <= int(frame) < frames:
            raise InvalidValueError(f"image {image!r} has {frames} frame(s); frame {frame} does not exist")
        return image_id, width, height

    def _image_record(self, image) -> dict:
        image_id = int(image) if isinstance(image, (int, np.integer)) else self._lookups().image_id(image)
        return self.images(ids=[image_id]).iloc[0].to_dict()

    def _mask_size(self, image) -> tuple[int, int, int, int]:
        """(image_id, width, height, frames), kept per image: a size never changes, and reading
        the image's row on every region read cost ~0.3 s of a 4,096 px read on the busy test machine."""
        cache = self.__dict__.setdefault("_mask_sizes", {})
        key = int(image) if isinstance(image, (int, np.integer)) else image
        if key not in cache:
            row = self._image_record(image)
            cache[key] = (int(row["image_id"]), int(row["width"]), int(row["height"]), int(row.get("frames") or 1))
        return cache[key]

    # -- reading ----------------------------------------------------------------------------------
    def mask(self, image, region=None, level: int = 0, frame: int = 0, version=None):
        """The label image of ``image`` (class index per pixel, 0 unlabelled) at ``level``
        (level-0 downsampled 2**level times): a numpy array of ``region`` = (x0, y0, x1, y1) in
        level-0 pixels, or, without a region, a dask array of the whole image read lazily tile
        by tile (at the snapshot of this call). Returns that array."""
        self.flush()
        image_id, width, height = self._mask_image(image, frame)
        level = _check_level(level, width, height)
        # now: no AT clause (the current state is what a plain read sees)
        snapshot = self._snapshot_of(version) if version is not None or region is None else None
        scale = 1 << level
        if region is not None:
            x0, y0, x1, y1 = _check_region(region, width, height)
            lk_box = (x0 // scale, y0 // scale, -(-x1 // scale), -(-y1 // scale))
            with self._store.small_reads() as con:
                return read_region(con, image_id, frame, level, lk_box, snapshot)
        return _lazy_mask(self, image_id, frame, level, -(-width // scale), -(-height // scale), snapshot)

    def watch_masks(self, image, callback, *, schedule=None):
        """Call ``callback({frame: [(tile_x, tile_y), ...]})`` with the level-0 tiles (512 px) of
        ``image``'s label image that a commit changed, committed by this kernel or by any other
        (noticed like ``proj.watch``; ``schedule`` as there). Returns a handle; ``close()`` it."""
        image_id = self._mask_size(image)[0]

        def moved(lo: int, hi: int) -> None:
            with self._store.reading() as con:
                changed = changed_tiles(con, lo, hi, image_id, level=0)
            by_frame = {frame: sorted(keys) for (_, frame, _), keys in changed.items() if keys}
            if by_frame:
                callback(by_frame)

        return self.watch_snapshots(moved, schedule=schedule)

    def mask_tiles(self, image, frame: int = 0, level: int = 0, version=None):
        """Every painted tile of ``image``'s label image at ``level`` and ``frame``, at the
        snapshot of ``version`` (None: now), as a ``MaskTiles`` that reads regions without the
        store (``.region(lk_box)`` equals ``mask(region=...)`` at that level); picklable, so
        worker processes can read it. Returns the MaskTiles."""
        from .snapshot import MaskTiles

        self.flush()
        image_id, width, height = self._mask_image(image, frame)
        level = _check_level(level, width, height)
        snapshot = self._snapshot_of(version)
        with self._store.reading() as con:
            tiles = read_tiles(con, image_id, frame, level, snapshot=snapshot)
        return MaskTiles(image_id, int(frame), level, snapshot, tiles)

    def mask_stats(self, image=None, image_set=None, frame=None, version=None) -> pd.DataFrame:
        """Pixels and area (µm², where the image has a pixel size) per image, frame and class."""
        self.flush()
        snapshot = self._snapshot_of(version)
        images = self.images(image_set=image_set)
        if image is not None:
            images = images[images["image_id"] == int(self._image_record(image)["image_id"])]
        names = dict(zip(self.annotation_types()["type_id"], self.annotation_types()["name"]))
        rows = []
        with self._store.reading() as con:
            for row in images.itertuples():
                keys = con.execute(
                    f"SELECT DISTINCT frame FROM {TABLE} AT (VERSION => {snapshot}) WHERE image_id = ? AND level = 0",
                    [int(row.image_id)]).fetchall()
                for (f,) in keys:
                    if frame is not None and int(f) != int(frame):
                        continue
                    counts = _class_counts(read_tiles(con, row.image_id, f, 0, snapshot=snapshot).values())
                    mpp = row.mpp if row.mpp is not None and not pd.isna(row.mpp) else None
                    for cls, n in sorted(counts.items()):
                        rows.append({"image_id": int(row.image_id), "image": row.name, "frame": int(f),
                                     "type_id": cls, "type": names.get(cls), "pixels": n,
                                     "area_um2": n * mpp * mpp if mpp else float("nan")})
        return pd.DataFrame(rows, columns=["image_id", "image", "frame", "type_id", "type", "pixels", "area_um2"])

    # -- writing ----------------------------------------------------------------------------------
    def set_mask(self, image, array, offset=(0, 0), level: int = 0, frame: int = 0, where=None) -> None:
        """Write class indices (mask types' ids, 0 to erase) at ``offset`` (level-0 pixels) as
        one snapshot; an array given at ``level`` > 0 covers 2**level level-0 pixels per pixel.
        ``where`` (bool, same shape) limits the write to those pixels. Returns None."""
        image_id, width, height = self._mask_image(image, frame)
        level = _check_level(level, width, height)
        values = check_labels(array)
        self._check_classes(values)
        where = None if where is None else np.asarray(where, dtype=bool)
        if where is not None and where.shape != values.shape:
            raise InvalidValueError(f"where= has shape {where.shape}, the mask {values.shape}")
        if level:
            scale = 1 << level
            values = np.repeat(np.repeat(values, scale, 0), scale, 1)
            where = None if where is None else np.repeat(np.repeat(where, scale, 0), scale, 1)
        x0, y0 = (int(v) for v in offset)
        h, w = values.shape
        slack = (1 << level) - 1  # a level > 0 array may overhang the image by less than one of its pixels
        if x0 + w > width + slack or y0 + h > height + slack:
            raise InvalidValueError(f"a {w}x{h} mask at {(x0, y0)} is not inside the {width}x{height} image")
        x1, y1 = min(x0 + w, width), min(y0 + h, height)
        _check_region((x0, y0, x1, y1), width, height)
        values = values[:y1 - y0, :x1 - x0]
        where = None if where is None else where[:y1 - y0, :x1 - x0]
        op = MaskOp(image_id, int(frame), (x0, y0), values, where)
        self.check_write_access([image_id])
        self.flush()  # strokes queued before this call land first
        self._write(lambda con: apply_ops(con, [op], {image_id: (width, height)}, self.user), f"mask of image {image_id}")

    def paint_stroke(self, image, l0_points, radius: float, type_=None, frame: int = 0) -> tuple[int, int, int, int]:
        """Queue a brush stroke (committed with the session's next batch): every pixel whose
        centre is within ``radius`` of the polyline gets ``type_``'s class (None: erase).
        Returns the level-0 box it covers."""
        op = self.stroke_op(image, l0_points, radius, type_, frame)
        if op is None:
            return (0, 0, 0, 0)
        self.queue_mask(op)
        return op_box(op)

    def stroke_op(self, image, l0_points, radius: float, type_=None, frame: int = 0) -> MaskOp | None:
        """The paint operation of a brush stroke, clipped to the image (None when outside)."""
        image_id, width, height = self._mask_image(image, frame)
        cls = self.mask_class(type_)
        origin, hit = stroke_mask(l0_points, float(radius))
        return _clipped_op(image_id, frame, cls, origin, hit, width, height)

    def fill_mask(self, image, polygon, type_=None, frame: int = 0) -> tuple[int, int, int, int]:
        """Queue a fill of a closed region (committed with the session's next batch, undone like a
        stroke in a viewer): every pixel whose centre is inside ``polygon`` gets ``type_``'s class
        (None: erase). ``polygon``: a shapely (Multi)Polygon, whose holes stay unpainted, or one
        ring (N x 2 level-0 points), or a list of rings (even-odd: a ring inside another is a hole).
        Returns the level-0 box it covers."""
        # rasterised tile by tile when committed (region_fill.py): any size of region fits in memory
        image_id, width, height = self._mask_image(image, frame)
        op = PolygonOp.clipped(image_id, frame, polygon_rings(polygon), self.mask_class(type_), width, height)
        if op is None:
            return (0, 0, 0, 0)
        self.queue_mask(op)
        return op_box(op)

    def polygon_op(self, image, polygon, type_=None, frame: int = 0) -> MaskOp | None:
        """The paint operation of a region fill as one array over its box, clipped to the image
        (None when outside): the viewer's fill tool, whose undo keeps the box as it was anyway."""
        image_id, width, height = self._mask_image(image, frame)
        cls = self.mask_class(type_)
        origin, hit = polygon_mask(polygon_rings(polygon))
        return _clipped_op(image_id, frame, cls, origin, hit, width, height)

    def queue_mask(self, op: MaskOp) -> None:
        """Queue any paint operation for the session's next batch."""
        _, width, height, _ = self._mask_size(op.image_id)
        self._check_classes(op.classes())
        self.check_write_access([op.image_id])
        self._mask_queue().put(op, (width, height))

    def clear_mask(self, image, frame: int = 0) -> int:
        """Remove every label of the image's frame (all levels) as one snapshot; returns the
        number of tiles removed."""
        image_id, _, _ = self._mask_image(image, frame)
        self.check_write_access([image_id])
        self.flush()

        def work(con):
            n = con.execute(f"SELECT count(*) FROM {TABLE} WHERE image_id = ? AND frame = ?",
                            [image_id, int(frame)]).fetchone()[0]
            con.execute(f"DELETE FROM {TABLE} WHERE image_id = ? AND frame = ?", [image_id, int(frame)])
            return int(n)

        return self._write(work, f"clear mask of image {image_id}")

    def _check_classes(self, values: np.ndarray) -> None:
        if not values.size:
            return
        lo, hi = int(values.min()), int(values.max())
        if hi == 0:
            return
        allowed = set(int(t) for t in self.mask_classes()["type_id"])
        # min and max first (0.5 ms on a 4,096 px block): when every index between them is a
        # mask type, nothing else can be wrong; np.unique took 0.09-0.17 s of a ~0.4 s set_mask
        if set(range(max(lo, 1), hi + 1)) <= allowed:
            return
        present = {int(v) for v in np.unique(values)} - {0}
        wrong = sorted(present - allowed)
        if wrong:
            raise UnknownTypeError(
                f"class indices {wrong} are not mask types of this project (mask types: {sorted(allowed) or 'none'})")

    # -- versions ---------------------------------------------------------------------------------
    def mask_diff(self, a, b=None, image=None) -> pd.DataFrame:
        """Per image, frame and class: level-0 pixels added and removed from version ``a`` to
        ``b`` (default now), and the tiles where that class changed."""
        self.flush()
        image_id = None if image is None else int(self._image_record(image)["image_id"])
        sa, sb = self._snapshot_of(a), self._snapshot_of(b)
        names = dict(zip(self.annotation_types()["type_id"], self.annotation_types()["name"]))
        with self._store.reading() as con:
            frame = mask_diff(con, sa, sb, image_id)
        frame.insert(3, "type", [names.get(t) for t in frame["type_id"]])
        return frame

    def restore_masks(self, version) -> int:
        """Make every mask equal to ``version`` again, as a new snapshot; returns the number of
        tiles rewritten."""
        self.flush()
        snap = self._snapshot_of(version)
        return self._write(lambda con: restore_masks(con, snap, self.user), f"restore masks to snapshot {snap}")

    def restore(self, version) -> int:
        """Annotations, verifications (see the store) and masks back to ``version``. Returns the number of annotations rewritten."""
        count = super().restore(version)
        self.restore_masks(version)
        return count


def _clipped_op(image_id, frame, cls, origin, hit, width, height) -> MaskOp | None:
    """A paint of ``cls`` where ``hit`` (bool, at level-0 ``origin``), cut to the image."""
    x0, y0 = origin
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + hit.shape[1], width), min(y0 + hit.shape[0], height)
    if cx1 <= cx0 or cy1 <= cy0:
        return None
    hit = hit[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    if not hit.any():
        return None
    return MaskOp(int(image_id), int(frame), (cx0, cy0), np.full(hit.shape, cls, np.uint16), hit)


def polygon_rings(polygon) -> list[np.ndarray]:
    """The rings of a shapely (Multi)Polygon, of one N x 2 ring, or of a list of rings."""
    geom_type = getattr(polygon, "geom_type", None)
    if geom_type == "Polygon":
        return [np.asarray(polygon.exterior.coords)] + [np.asarray(r.coords) for r in polygon.interiors]
    if geom_type == "MultiPolygon":
        return [ring for part in polygon.geoms for ring in polygon_rings(part)]
    if geom_type is not None:
        raise InvalidValueError(f"a fill needs a Polygon or MultiPolygon, got a {geom_type}")
    try:
        single = np.asarray(polygon, dtype=np.float64)
    except (TypeError, ValueError):  # rings of different lengths
        single = None
    if single is not None and single.ndim == 2 and single.shape[1] == 2:
        return [single]
    try:
        return [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in polygon]
    except (TypeError, ValueError):
        raise InvalidValueError(f"a polygon must be N x 2 level-0 points or a list of such rings, got {polygon!r:.80}") from None


def op_box(op: MaskOp) -> tuple[int, int, int, int]:
    """The level-0 box (x0, y0, x1, y1) a paint operation covers."""
    return op.l0_box


def _check_level(level, width: int, height: int) -> int:
    top = top_level(width, height)
    if not isinstance(level, (int, np.integer)) or not 0 <= int(level) <= top:
        raise InvalidValueError(f"mask level must be an integer 0..{top} for a {width}x{height} image, got {level!r}")
    return int(level)


def _check_region(region, width: int, height: int) -> tuple[int, int, int, int]:
    try:
        x0, y0, x1, y1 = (int(v) for v in region)
    except (TypeError, ValueError):
        raise InvalidValueError(f"region must be (x0, y0, x1, y1) in level-0 pixels, got {region!r}") from None
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise InvalidValueError(f"region {(x0, y0, x1, y1)} is not inside the {width}x{height} image")
    return x0, y0, x1, y1


def _class_counts(blobs) -> dict[int, int]:
    from .tiles import decode_tile

    total: dict[int, int] = {}
    for data in blobs:
        counts = np.bincount(decode_tile(data).ravel())
        for cls in np.flatnonzero(counts):
            if cls:
                total[int(cls)] = total.get(int(cls), 0) + int(counts[cls])
    return total


def _lazy_mask(project, image_id, frame, level, width, height, snapshot):
    import dask.array as da

    def block(block_info=None):
        (y0, y1), (x0, x1) = block_info[None]["array-location"]
        store = project._store
        with store.reading() as con:
            out = read_region(con, image_id, frame, level, (x0, y0, x1, y1), snapshot)
        return out.astype(np.uint16, copy=False)

    chunks = (_chunks(height), _chunks(width))
    return da.map_blocks(block, chunks=chunks, dtype=np.uint16, meta=np.empty((0, 0), np.uint16))


def _chunks(size: int) -> tuple[int, ...]:
    full, rest = divmod(size, TILE)
    return (TILE,) * full + ((rest,) if rest else ())


__all__ = ["MasksMixin"]
