"""The one-transaction import path shared by every format reader, and the format hooks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from .annotations import insert_table
from .catalog import PALETTE
from .geometry import normalize_vector_type, to_geometry_array, vector_type_for
from .rows import build_annotation_table
from .util import dump_meta, next_id, utcnow


class ImportMixin:
    def import_table(
        self,
        table: pd.DataFrame,
        *,
        image_set: str | None = None,
        type_map: dict | None = None,
        create_types: bool = True,
        types: dict | None = None,
        images: pd.DataFrame | None = None,
        source_file: str | None = None,
    ) -> dict:
        """Import a parsed annotation table in ONE transaction (all or nothing).

        ``table``: image (file name), type (class name), geometry, and optional frame, score,
        source, description, meta, uuid, concealed, blurred. Images are matched by file name in
        ``image_set`` (created if missing); unknown names get placeholder image records.
        Missing types are created (vector type from ``types`` or guessed) unless
        ``create_types=False``.
        """
        self.flush()
        table = table.reset_index(drop=True).copy()
        for column in ("image", "type"):
            if column not in table.columns:
                raise InvalidValueError(f"an import table needs an {column!r} column")
        type_map = dict(type_map or {})
        types = dict(types or {})
        table["type"] = [type_map.get(t, t) for t in table["type"]]
        sizes = {}
        if images is not None and len(images):
            for row in images.itertuples(index=False):
                sizes[getattr(row, "name")] = row
        image_set_name = image_set or "default"

        def work(con):
            report = {"imported": 0, "by_type": {}, "placeholders": 0, "created_types": [],
                      "skipped": 0, "warnings": [], "image_set": image_set_name}
            set_id = self._image_set_id(image_set_name, con=con, create=True)
            # images by name within the set
            known = dict(con.execute("SELECT name, image_id FROM images WHERE image_set_id = ?", [set_id]).fetchall())
            names = list(dict.fromkeys(list(table["image"].astype(str)) + list(sizes)))
            now = utcnow()
            for name in names:
                if name in known:
                    continue
                info = sizes.get(name)
                image_id = next_id(con, "images", "image_id")
                width = _int_or_none(getattr(info, "width", None)) if info is not None else None
                height = _int_or_none(getattr(info, "height", None)) if info is not None else None
                meta = getattr(info, "meta", None) if info is not None else None
                con.execute(
                    "INSERT INTO images VALUES (?, ?, ?, ?, NULL, ?, ?, 1, NULL, NULL, 1, NULL, NULL, ?, ?, ?, false, true, ?)",
                    [image_id, set_id, name, name, width, height, source_file, self.user, now, dump_meta(meta)],
                )
                known[name] = image_id
                report["placeholders"] += 1
            # types
            existing = {r[0] for r in con.execute("SELECT name FROM annotation_types").fetchall()}
            wanted = list(dict.fromkeys(table["type"]))
            for name in wanted:
                if name in existing:
                    continue
                if not create_types:
                    from ..errors import UnknownTypeError

                    raise UnknownTypeError(
                        f"the file uses class {name!r}, which the project does not have "
                        "(create_types=False; map it with type_map=)")
                spec = dict(types.get(name) or {})
                vector_type = spec.get("vector_type")
                if vector_type is None:
                    geoms = to_geometry_array(table.loc[table["type"] == name, "geometry"].to_numpy()) \
                        if "geometry" in table.columns else np.array([None], dtype=object)
                    vector_type = _fitting_type(geoms)
                type_id = self._insert_type(
                    con, name, normalize_vector_type(vector_type), color=spec.get("color"),
                    default_size=spec.get("default_size"), node_count=spec.get("node_count"),
                    meta=spec.get("meta"),
                )
                if spec.get("color") is None:
                    con.execute("UPDATE annotation_types SET color = ? WHERE type_id = ?",
                                [PALETTE[(type_id - 1) % len(PALETTE)], type_id])
                existing.add(name)
                report["created_types"].append(name)
            rows = table.assign(image_id=[known[str(n)] for n in table["image"]]).drop(columns=["image"])
            if len(rows):
                arrow = build_annotation_table(self, con, rows, user=self.user)
                insert_table(con, arrow, sort=arrow.num_rows > 10_000)
            report["imported"] = int(len(rows))
            report["by_type"] = {str(k): int(v) for k, v in rows["type"].value_counts().items()} if len(rows) else {}
            return report

        message = f"import {source_file}" if source_file else "import"
        report = self._write(work, message)
        self._notify(None, None)
        return report

    def import_annotations(self, path, format: str | None = None, image_set: str | None = None, **kwargs) -> dict:
        """Read an annotation file (format sniffed when not given) into the project; one transaction."""
        from .. import formats

        return formats.import_annotations(self, path, format=format, image_set=image_set, **kwargs)

    def export_annotations(self, path, format: str, version=None, image_set=None, types=None, **kwargs):
        from .. import formats

        return formats.export_annotations(self, path, format, version=version, image_set=image_set,
                                          types=types, **kwargs)


def _fitting_type(geoms: np.ndarray) -> str:
    """One vector type that accepts every geometry of a class."""
    kinds = {vector_type_for(g) for g in geoms}
    if not kinds:
        return "polygon"
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= {"box", "polygon"}:
        return "polygon"
    if kinds <= {"line", "polyline"}:
        return "polyline"
    raise InvalidValueError(f"one class holds geometries of several kinds ({', '.join(sorted(kinds))}); "
                            "give its vector type in types=")


def _int_or_none(value):
    try:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        return int(value)
    except (TypeError, ValueError):
        return None
