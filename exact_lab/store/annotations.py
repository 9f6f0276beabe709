"""Adding, changing, soft-deleting and querying annotations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InvalidValueError, UnknownAnnotationError
from .geometry import bounds_of, from_wkb_array, to_geometry_array, validate, wkb_array
from .rows import SORT_ABOVE, as_frame, build_annotation_table, in_input_order, normalize_uuids, spatial_order, uuid_strings
from .schema import ANNOTATION_COLUMNS
from .util import dump_meta, load_meta_column, utcnow

# Columns a caller may change through update_annotations.
EDITABLE = ("geometry", "type", "type_id", "frame", "description", "score", "source", "meta",
            "concealed", "blurred", "deleted")

SELECT_COLUMNS = (
    "a.uuid::VARCHAR AS uuid, a.image_id, i.name AS image, a.type_id, t.name AS type, "
    "t.vector_type, a.geometry, a.frame, a.min_x AS xmin, a.min_y AS ymin, a.max_x AS xmax, a.max_y AS ymax, a.creator, a.created_at, "
    "a.editor, a.updated_at, a.deleted, a.concealed, a.blurred, a.description, a.score, a.source, a.meta"
)


def insert_table(con, table: pa.Table, *, sort: bool = False) -> None:
    """One INSERT of a prepared Arrow table (bulk path: one statement, one snapshot).

    ``sort`` orders big inserts by their top edge, so each Parquet row group covers a narrow band
    of the image and viewport queries skip the rest by its min/max statistics.
    """
    if sort:
        table = table.take(pc.sort_indices(table, [("min_y", "ascending"), ("min_x", "ascending")]))
    con.register("_incoming_annotations", table)
    try:
        columns = ", ".join("uuid::UUID" if c == "uuid" else c for c in ANNOTATION_COLUMNS)
        con.execute(f"INSERT INTO annotations SELECT {columns} FROM _incoming_annotations")
    finally:
        con.unregister("_incoming_annotations")


def current_rows(con, uuids) -> pd.DataFrame:
    """The stored rows (all columns) for these uuids, in no particular order."""
    con.register("_wanted", pa.table({"uuid": pa.array(list(uuids), type=pa.string())}))
    try:
        return con.execute(
            "SELECT a.* REPLACE (a.uuid::VARCHAR AS uuid) FROM annotations a "
            "JOIN _wanted w ON a.uuid = w.uuid::UUID"
        ).to_arrow_table().to_pandas()
    finally:
        con.unregister("_wanted")


def apply_changes(project, con, changes: pd.DataFrame, *, user: str) -> list[str]:
    """Apply per-uuid changes (columns from EDITABLE, missing/NaN = unchanged) in ``con``'s
    transaction: every changed row is rewritten once with its new state."""
    if changes.empty:
        return []
    uuids = normalize_uuids(changes["uuid"].to_numpy())
    changes = changes.assign(uuid=uuids).drop_duplicates("uuid", keep="last").set_index("uuid")
    stored = current_rows(con, changes.index).set_index("uuid")
    missing = changes.index.difference(stored.index)
    if len(missing):
        raise UnknownAnnotationError(f"no annotation {missing[0]} in this project")
    stored = stored.loc[changes.index]

    if "type" in changes.columns or "type_id" in changes.columns:
        key = "type_id" if "type_id" in changes.columns else "type"
        wanted = changes[key].dropna()
        if len(wanted):
            ids = project._type_ids(list(pd.unique(wanted)), con=con)
            stored.loc[wanted.index, "type_id"] = [ids[v] for v in wanted]
    for name in ("frame", "description", "score", "source", "concealed", "blurred", "deleted"):
        if name in changes.columns:
            given = changes[name].dropna() if name not in ("description", "source") else changes[name][changes[name].notna()]
            stored.loc[given.index, name] = given
    if "meta" in changes.columns:
        given = changes["meta"][changes["meta"].notna()]
        stored.loc[given.index, "meta"] = [dump_meta(v) for v in given]

    geoms = from_wkb_array(stored["geometry"].to_numpy())
    if "geometry" in changes.columns:
        new = changes["geometry"]
        has_new = new.notna().to_numpy()
        if has_new.any():
            geoms[has_new] = to_geometry_array(new.to_numpy()[has_new])
    vector_types = dict(con.execute("SELECT type_id, vector_type FROM annotation_types").fetchall())
    row_vts = np.array([vector_types[int(t)] for t in stored["type_id"]], dtype=object)
    validate(geoms, row_vts)
    bounds = bounds_of(geoms)
    now = utcnow()
    n = len(stored)
    table = pa.table({
        "uuid": pa.array(list(stored.index), type=pa.string()),
        "image_id": pa.array(stored["image_id"].to_numpy(dtype=np.int64)),
        "type_id": pa.array(stored["type_id"].to_numpy(dtype=np.int64)),
        "frame": pa.array(stored["frame"].fillna(0).to_numpy(dtype=np.int32)),
        "geometry": wkb_array(geoms),
        "min_x": pa.array(bounds[:, 0]),
        "min_y": pa.array(bounds[:, 1]),
        "max_x": pa.array(bounds[:, 2]),
        "max_y": pa.array(bounds[:, 3]),
        "editor": pa.array([user] * n, type=pa.string()),
        "updated_at": pa.array(np.full(n, np.datetime64(now, "us")), type=pa.timestamp("us")),
        "deleted": pa.array(stored["deleted"].fillna(False).to_numpy(dtype=bool)),
        "concealed": pa.array(stored["concealed"].fillna(False).to_numpy(dtype=bool)),
        "blurred": pa.array(stored["blurred"].fillna(False).to_numpy(dtype=bool)),
        "description": pa.array(stored["description"].to_numpy(dtype=object), type=pa.string(), from_pandas=True),
        "score": pa.array(stored["score"].to_numpy(dtype=np.float64), from_pandas=True),
        "source": pa.array(stored["source"].to_numpy(dtype=object), type=pa.string(), from_pandas=True),
        "meta": pa.array(stored["meta"].to_numpy(dtype=object), type=pa.string(), from_pandas=True),
    })
    rewrite(con, table)
    return list(stored.index)


def rewrite(con, table: pa.Table) -> None:
    """UPDATE every row of ``table`` (matched by uuid) to the values it carries."""
    con.register("_changed", table)
    try:
        sets = ", ".join(f"{c} = c.{c}" for c in table.column_names if c != "uuid")
        con.execute(f"UPDATE annotations SET {sets} FROM _changed c WHERE annotations.uuid = c.uuid::UUID")
    finally:
        con.unregister("_changed")


def set_flag(con, uuids, column: str, value: bool, *, user: str) -> list[str]:
    uuids = list(normalize_uuids(list(uuids)))
    if not uuids:
        return []
    stored = current_rows(con, uuids)
    missing = set(uuids) - set(stored["uuid"])
    if missing:
        raise UnknownAnnotationError(f"no annotation {sorted(missing)[0]} in this project")
    con.register("_flagged", pa.table({"uuid": pa.array(uuids, type=pa.string())}))
    try:
        con.execute(
            f"UPDATE annotations SET {column} = ?, editor = ?, updated_at = ? "
            f"FROM _flagged f WHERE annotations.uuid = f.uuid::UUID AND annotations.{column} IS DISTINCT FROM ?",
            [value, user, utcnow(), value],
        )
    finally:
        con.unregister("_flagged")
    return uuids


def decode(frame: pd.DataFrame) -> pd.DataFrame:
    """Geometry as shapely objects and meta as dicts, for the public DataFrames."""
    if "geometry" in frame.columns:
        frame["geometry"] = from_wkb_array(frame["geometry"].to_numpy())
    if "meta" in frame.columns:
        frame["meta"] = load_meta_column(frame["meta"])
    return frame


class AnnotationsMixin:
    def add_annotations(self, rows, *, type_map: dict | None = None) -> list[str]:
        """Add one or many annotations in one transaction; returns their uuids in row order.

        ``rows``: DataFrame, Arrow table, dict or records with ``image_id`` (or ``image`` name),
        ``type`` (template name) or ``type_id``, and ``geometry`` (shapely, WKT, WKB, GeoJSON
        dict) — or, for box types, ``xmin, ymin, xmax, ymax`` columns. Optional: ``frame``,
        ``score``, ``source``, ``description``, ``meta`` (dict), ``uuid``, ``concealed``, ``blurred``.
        A bad row rejects the whole call with an error naming the row.
        """
        self.flush()

        frame = as_frame(rows)
        order = spatial_order(frame)
        if order is not None:  # box columns: sort cheaply here rather than the built table later
            frame = frame.take(order)

        def work(con):
            table = build_annotation_table(self, con, frame, user=self.user, type_map=type_map)
            insert_table(con, table, sort=order is None and table.num_rows > SORT_ABOVE)
            return table

        table = self._write(work, None)
        uuids = uuid_strings(in_input_order(table.column("uuid").combine_chunks(), order))
        self._notify(pc.unique(table.column("image_id")).to_numpy(), None if len(uuids) > 10_000 else uuids.to_pylist())
        if len(uuids) < 100_000:
            return uuids.to_pylist()
        # A million Python strings cost more than the insert; an Arrow-backed Series costs nothing.
        return pd.Series(pd.arrays.ArrowExtensionArray(uuids), name="uuid")

    def update_annotations(self, changes) -> list[str]:
        """Change geometry, type or attributes of annotations, matched by ``uuid``.

        Columns present are changed (NaN / None leaves a value as it is); others are kept.
        """
        frame = as_frame(changes)
        if "uuid" not in frame.columns:
            raise InvalidValueError("update_annotations needs a 'uuid' column")
        unknown = set(frame.columns) - set(EDITABLE) - {"uuid"}
        if unknown:
            raise InvalidValueError(f"cannot change {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}")
        self.flush()
        done = self._write(lambda con: apply_changes(self, con, frame, user=self.user), None)
        self._notify(None, done)
        return done

    def delete_annotations(self, uuids) -> list[str]:
        """Soft delete: the rows stay, marked deleted, and come back with ``undelete_annotations``."""
        return self._flag(uuids, "deleted", True)

    def undelete_annotations(self, uuids) -> list[str]:
        return self._flag(uuids, "deleted", False)

    def _flag(self, uuids, column, value):
        if isinstance(uuids, str):
            uuids = [uuids]
        self.flush()
        done = self._write(lambda con: set_flag(con, uuids, column, value, user=self.user), None)
        self._notify(None, done)
        return done

    def annotations(
        self,
        image=None,
        image_set=None,
        types=None,
        bbox=None,
        version=None,
        include_deleted: bool = False,
        *,
        user: str | None = None,
        frame: int | None = None,
        uuids=None,
        as_relation: bool = False,
    ):
        """Annotations as a DataFrame (geometry as shapely objects, bbox columns, meta dicts).

        ``bbox=(x0, y0, x1, y1)`` keeps what intersects that viewport; ``version`` reads a named
        version (or a snapshot id); ``as_relation=True`` returns a DuckDB relation (geometry as
        WKB) to keep querying with SQL.
        """
        self.flush()
        if version is None and image_set is None and not as_relation:
            return self._current_annotations(image, types, bbox, include_deleted, user, frame, uuids)
        sql, params = self._annotation_query(image, image_set, types, bbox, version, include_deleted, user, frame, uuids)
        if as_relation:
            with self._store.lock:
                return self._store.con.sql(sql, params=params)
        frame_ = self._store.df(sql, params)
        return decode(frame_)

    def _current_annotations(self, image, types, bbox, include_deleted, user, frame, uuids) -> pd.DataFrame:
        """The hot path of viewers: one scan of the annotations table; type and image names come
        from a small per-snapshot lookup instead of joining two more DuckLake tables per query."""
        lookup = self._lookups()
        where, params = self._filters("", image, types, bbox, include_deleted, user, frame, uuids)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        frame_ = self._store.df(
            "SELECT uuid::VARCHAR AS uuid, image_id, type_id, geometry, frame, min_x AS xmin, min_y AS ymin, "
            "max_x AS xmax, max_y AS ymax, creator, created_at, editor, updated_at, deleted, concealed, blurred, "
            f"description, score, source, meta FROM annotations {clause}",
            params,
        )
        frame_.insert(2, "image", frame_["image_id"].map(lookup.image_names))
        frame_.insert(4, "type", frame_["type_id"].map(lookup.type_names))
        frame_.insert(5, "vector_type", frame_["type_id"].map(lookup.vector_types))
        return decode(frame_)

    def count_annotations(self, **filters) -> int:
        sql, params = self._annotation_query(**{k: filters.get(k) for k in (
            "image", "image_set", "types", "bbox", "version")}, include_deleted=filters.get("include_deleted", False),
            user=filters.get("user"), frame=filters.get("frame"), uuids=None)
        return int(self._store.fetchall(f"SELECT count(*) FROM ({sql})", params)[0][0])

    def _filters(self, prefix, image, types, bbox, include_deleted, user, frame, uuids):
        """WHERE terms and parameters for annotation queries; ``prefix`` is the table alias."""
        a = prefix
        where, params = [], []
        if image is not None:
            images = image if isinstance(image, (list, tuple, np.ndarray, pd.Series)) else [image]
            lookup = self._lookups()
            ids = [lookup.image_id(i) for i in images]
            if len(ids) == 1:  # a plain equality lets DuckLake skip other images' files
                where.append(f"{a}image_id = ?")
                params.append(ids[0])
            else:
                where.append(f"{a}image_id IN (SELECT unnest(?::BIGINT[]))")
                params.append(ids)
        if types is not None:
            names = [types] if isinstance(types, (str, int)) else list(types)
            where.append(f"{a}type_id IN (SELECT unnest(?::BIGINT[]))")
            params.append(list(self._type_ids(names).values()))
        if bbox is not None:
            x0, y0, x1, y1 = (float(v) for v in bbox)
            where.append(f"{a}max_x >= ? AND {a}min_x <= ? AND {a}max_y >= ? AND {a}min_y <= ?")
            params += [x0, x1, y0, y1]
        if not include_deleted:
            where.append(f"NOT {a}deleted")
        if user is not None:
            where.append(f"{a}creator = ?")
            params.append(user)
        if frame is not None:
            where.append(f"{a}frame = ?")
            params.append(int(frame))
        if uuids is not None:
            where.append(f"{a}uuid IN (SELECT unnest(?::UUID[]))")
            params.append([str(u) for u in uuids])
        return where, params

    def _annotation_query(self, image, image_set, types, bbox, version, include_deleted, user, frame, uuids):
        at = self._at(version)
        where, params = self._filters("a.", image, types, bbox, include_deleted, user, frame, uuids)
        if image_set is not None:
            where.append("i.image_set_id = ?")
            params.append(self._image_set_id(image_set))
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        sql = (
            f"SELECT {SELECT_COLUMNS} FROM annotations AS a {at} "
            f"LEFT JOIN annotation_types AS t {at} ON a.type_id = t.type_id "
            f"LEFT JOIN images AS i {at} ON a.image_id = i.image_id {clause}"
        )
        return sql, params
