"""The one-transaction import path shared by every format reader, and the format hooks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from .annotations import insert_table
from .geometry import normalize_vector_type, to_geometry_array, vector_type_for
from .rows import build_annotation_table
from .util import next_id, utcnow
from .validate import meta_text


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
        # Vectorised throughout: an import may hold millions of rows.
        table["image"] = table["image"].astype(str).to_numpy(dtype=object)
        type_names = table["type"].to_numpy(dtype=object)
        if type_map:
            type_names = pd.Series(type_names).replace(type_map).to_numpy(dtype=object)
        table["type"] = type_names
        sizes = images.drop_duplicates("name").set_index("name") if images is not None and len(images) else None
        image_set_name = image_set or "default"
        row_images = pd.unique(table["image"].to_numpy(dtype=object))
        listed = [] if sizes is None else [str(n) for n in sizes.index]
        all_names = list(dict.fromkeys(list(row_images) + listed))
        wanted_types = list(dict.fromkeys(list(pd.unique(type_names)) + [type_map.get(t, t) for t in types]))

        def work(con):
            report = {"imported": 0, "by_type": {}, "placeholders": 0, "created_types": [],
                      "skipped": 0, "warnings": [], "image_set": image_set_name}
            set_id = self._image_set_id(image_set_name, con=con, create=True)
            known = dict(con.execute("SELECT name, image_id FROM images WHERE image_set_id = ?", [set_id]).fetchall())
            missing = [name for name in all_names if name not in known]
            if missing:
                first = next_id(con, "images", "image_id")
                ids = list(range(first, first + len(missing)))
                holders = pd.DataFrame({"image_id": ids, "name": missing})
                for column in ("width", "height", "meta"):
                    values = sizes[column] if sizes is not None and column in sizes.columns else None
                    holders[column] = [values.get(n) if values is not None else None for n in missing]
                _insert_placeholders(con, holders, set_id, self.user)
                known.update(zip(missing, ids))
                report["placeholders"] = len(missing)
            existing = {r[0] for r in con.execute("SELECT name FROM annotation_types").fetchall()}
            for name in wanted_types:
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
                self._insert_type(
                    con, name, normalize_vector_type(vector_type), color=spec.get("color"),
                    default_size=spec.get("default_size"), node_count=spec.get("node_count"),
                    meta=spec.get("meta"),
                )
                existing.add(name)
                report["created_types"].append(name)
            rows = table.drop(columns=["image"])
            rows["image_id"] = table["image"].map(known).to_numpy(dtype=np.int64)
            if len(rows):
                built = build_annotation_table(con, rows, user=self.user, warnings=report["warnings"])
                self._check_writes(np.unique(built.column("image_id").to_numpy()))
                insert_table(con, built)
            report["imported"] = int(len(rows))
            report["by_type"] = {str(k): int(v) for k, v in pd.Series(type_names).value_counts().items()} if len(rows) else {}
            return report

        message = f"import {source_file}" if source_file else "import"
        report = self._write(work, message)
        self._notify(None, None)
        return report

    def import_annotations(self, path, format: str | None = None, image_set: str | None = None, **kwargs) -> dict:
        """Read an annotation file (format sniffed when not given) into the project; one transaction.
        Returns the import report (a dict: what was read, created and skipped)."""
        from .. import formats

        return formats.import_annotations(self, path, format=format, image_set=image_set, **kwargs)

    def export_annotations(self, path, format: str, version=None, image_set=None, types=None,
                           min_verifications: int | None = None, **kwargs):
        """Write the annotations (of ``image_set`` and ``types``, at ``version``) to ``path`` in
        ``format``; options are the format's. ``min_verifications`` keeps only those accepted (see
        ``consensus``) with at least that many distinct users' verifications. Returns the export
        report (what was written where)."""
        from .. import formats

        return formats.export_annotations(self, path, format, version=version, image_set=image_set,
                                          types=types, min_verifications=min_verifications, **kwargs)


def _insert_placeholders(con, holders: pd.DataFrame, set_id: int, user: str) -> None:
    """One statement for every placeholder image an import needs: a name (and the size the file
    gives, if any), no pixels read, so no path, vendor or source format until add_images."""
    now = utcnow()
    n = len(holders)
    frame = pd.DataFrame({
        "image_id": holders["image_id"].astype("int64"),
        "image_set_id": np.full(n, set_id, dtype=np.int64),
        "name": holders["name"].astype(object),
        "public_name": holders["name"].astype(object),
        "width": pd.array([_int_or_none(v) for v in holders["width"]], dtype="Int64"),
        "height": pd.array([_int_or_none(v) for v in holders["height"]], dtype="Int64"),
        "meta": [meta_text(v) for v in holders["meta"]],
    })
    con.register("_placeholders", frame)
    try:
        con.execute(
            "INSERT INTO images (image_id, image_set_id, name, public_name, width, height, levels, frames, "
            "added_by, added_at, pseudonymized, placeholder, meta) "
            "SELECT image_id, image_set_id, name, public_name, width, height, 1, 1, ?, ?, false, true, meta "
            "FROM _placeholders",
            [user, now],
        )
    finally:
        con.unregister("_placeholders")


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
