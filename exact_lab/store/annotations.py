"""Adding, changing, soft-deleting and querying annotations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InvalidValueError, UnknownAnnotationError, UnknownImageError, UnknownTypeError
from . import validate
from .catalog import image_set_term
from .geometry import bounds_of, from_wkb_array, to_geometry_array, wkb_array
from .query import ROW_COLUMNS, AnnotationQuery
from .rows import SORT_ABOVE, Known, as_frame, build_annotation_table, normalize_uuids, top_edge_order, uuid_strings
from .schema import ANNOTATION_COLUMNS
from .util import load_meta_column, utcnow
from .validate import bbox_values

# Columns a caller may change through update_annotations.
EDITABLE = ("geometry", "type", "type_id", "frame", "description", "score", "source", "meta",
            "concealed", "blurred", "deleted")


# Up to this many rows are inserted as the parameters of one VALUES statement: registering an
# Arrow table cost a single-row insert 7.2 ms of CPU against 4.3 ms (2026-12-02, one DuckDB thread).
PARAMETER_INSERT_ROWS = 16
_NAMES = ", ".join(ANNOTATION_COLUMNS)


def insert_table(con, table: pa.Table) -> None:
    """One INSERT of a prepared Arrow table (bulk path: one statement, one snapshot), by column
    name. Inserts of more than SORT_ABOVE rows are written in top-edge order (see top_edge_order)."""
    if table.num_rows <= PARAMETER_INSERT_ROWS:
        _insert_values(con, table)
        return
    if table.num_rows > SORT_ABOVE:
        table = table.take(pa.array(top_edge_order(table.column("min_y").to_numpy())))
    con.register("_incoming_annotations", table)
    try:
        values = ", ".join("uuid::UUID" if c == "uuid" else c for c in ANNOTATION_COLUMNS)
        con.execute(f"INSERT INTO annotations ({_NAMES}) SELECT {values} FROM _incoming_annotations")
    finally:
        con.unregister("_incoming_annotations")


def _insert_values(con, table: pa.Table) -> None:
    columns = [table.column(name).to_pylist() for name in ANNOTATION_COLUMNS]
    one = "(" + ", ".join(["?"] * len(ANNOTATION_COLUMNS)) + ")"
    params = [value for row in zip(*columns) for value in row]
    con.execute(f"INSERT INTO annotations ({_NAMES}) VALUES {', '.join([one] * table.num_rows)}", params)


def build_known_table(project, con, rows, *, known=None, **options) -> pa.Table:
    """build_annotation_table against the project's cached types and images (no catalog scan when
    they have not changed); a row naming a type or image the cache lacks is checked once more
    against the tables themselves (one another writer added a moment ago). ``con`` None: outside a
    transaction, with the lookups ``known`` already read (rows without given uuids only)."""
    lookups = known if known is not None else project._lookups(con)
    try:
        table = build_annotation_table(con, rows, known=Known.of(lookups), **options)
    except (UnknownTypeError, UnknownImageError):
        if con is None:
            raise
        table = build_annotation_table(con, rows, **options)
    project._check_writes(pc.unique(table.column("image_id")).to_pylist())
    return table


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
    changes = validate.changes(changes).drop_duplicates("uuid", keep="last").set_index("uuid")
    stored = current_rows(con, changes.index).set_index("uuid")
    missing = changes.index.difference(stored.index)
    if len(missing):
        raise UnknownAnnotationError(f"no annotation {missing[0]} in this project")
    stored = stored.loc[changes.index]
    project._check_writes(stored["image_id"].unique())

    if "type" in changes.columns or "type_id" in changes.columns:
        key = "type_id" if "type_id" in changes.columns else "type"
        wanted = changes[key].dropna()
        if len(wanted):
            ids = project._type_ids(list(pd.unique(wanted)), con=con)
            stored.loc[wanted.index, "type_id"] = [ids[v] for v in wanted]
    for name in ("frame", "description", "score", "source", "concealed", "blurred", "deleted"):
        if name in changes.columns:
            given = changes[name].dropna() if name not in ("description", "source") else changes[name][changes[name].notna()]
            values = given.to_numpy()
            if stored[name].dtype.kind in "fiub":  # checked values arrive as objects; pandas 3 refuses to upcast
                values = values.astype(stored[name].dtype)
            stored.loc[given.index, name] = values
    if "meta" in changes.columns:
        given = changes["meta"][changes["meta"].notna()]
        stored.loc[given.index, "meta"] = list(given)  # JSON text already (validate.changes)

    geoms = from_wkb_array(stored["geometry"].to_numpy())
    if "geometry" in changes.columns:
        new = changes["geometry"]
        has_new = new.notna().to_numpy()
        if has_new.any():
            geoms[has_new] = to_geometry_array(new.to_numpy()[has_new])
    vector_types = project._lookups(con).vector_types
    if not set(stored["type_id"].astype(int)) <= set(vector_types):  # a type added a moment ago
        vector_types = dict(con.execute("SELECT type_id, vector_type FROM annotation_types").fetchall())
    row_vts = np.array([vector_types[int(t)] for t in stored["type_id"]], dtype=object)
    validate.check_geometries(geoms, row_vts)
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


def set_flag(project, con, uuids, column: str, value: bool, *, user: str) -> list[str]:
    uuids = list(normalize_uuids(list(uuids)))
    if not uuids:
        return []
    stored = current_rows(con, uuids)
    missing = set(uuids) - set(stored["uuid"])
    if missing:
        raise UnknownAnnotationError(f"no annotation {sorted(missing)[0]} in this project")
    project._check_writes(stored["image_id"].unique())
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
        A bad row rejects the whole call with an error naming its position in ``rows``; empty
        ``rows`` add nothing and return ``[]``.
        """
        frame = as_frame(rows)
        if frame.empty:  # nothing to add: no snapshot, nothing to notify
            return []
        self.flush()
        # Checked and built before the turn (its ~5 ms of a single-row call then overlap the other
        # writers' commits), against the cached types and images; rebuilt in the transaction only
        # if another writer changed those meanwhile. Given uuids are checked against the project
        # in the transaction, so such rows are built there.
        prebuilt = None
        if "uuid" not in frame.columns:
            known = self._lookups()
            try:
                prebuilt = (known, build_known_table(self, None, frame, user=self.user, type_map=type_map, known=known))
            except (UnknownTypeError, UnknownImageError):
                pass  # looked up again in the transaction, which has the last word

        def work(con):
            if prebuilt is not None and self._lookups(con) is prebuilt[0]:
                table = prebuilt[1]
                self._check_writes(pc.unique(table.column("image_id")).to_pylist())
            else:
                table = build_known_table(self, con, frame, user=self.user, type_map=type_map)
            insert_table(con, table)
            return table

        table = self._write(work, None, rows=len(frame))
        uuids = uuid_strings(table.column("uuid"))
        self._notify(pc.unique(table.column("image_id")).to_numpy(), None if len(uuids) > 10_000 else uuids.to_pylist())
        if len(uuids) < 100_000:
            return uuids.to_pylist()
        # A million Python strings cost more than the insert; an Arrow-backed Series costs nothing.
        return pd.Series(pd.arrays.ArrowExtensionArray(uuids), name="uuid")

    def update_annotations(self, changes) -> list[str]:
        """Change geometry, type or attributes of annotations, matched by ``uuid``.

        Columns present are changed (NaN / None leaves a value as it is); others are kept.
        Returns the uuids changed.
        """
        frame = as_frame(changes)
        if "uuid" not in frame.columns:
            raise InvalidValueError("update_annotations needs a 'uuid' column")
        unknown = set(frame.columns) - set(EDITABLE) - {"uuid"}
        if unknown:
            raise InvalidValueError(f"cannot change {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}")
        self.flush()
        done = self._write(lambda con: apply_changes(self, con, frame, user=self.user), None, rows=len(frame))
        self._notify(None, done)
        return done

    def delete_annotations(self, uuids) -> list[str]:
        """Soft delete: the rows stay, marked deleted, and come back with ``undelete_annotations``.
        Returns the uuids deleted."""
        return self._flag(uuids, "deleted", True)

    def undelete_annotations(self, uuids) -> list[str]:
        """Bring soft-deleted annotations back. Returns the uuids undeleted."""
        return self._flag(uuids, "deleted", False)

    def _flag(self, uuids, column, value):
        if isinstance(uuids, str):
            uuids = [uuids]
        self.flush()
        done = self._write(lambda con: set_flag(self, con, uuids, column, value, user=self.user), None,
                           rows=len(uuids))
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
        query = self.annotation_query(image=image, image_set=image_set, types=types, bbox=bbox, version=version,
                                      include_deleted=include_deleted, user=user, frame=frame, uuids=uuids)
        if version is None and not as_relation:
            return self._current_annotations(query)
        sql, params = query.select_named()
        if as_relation:
            return self._store.relation(sql, params)
        return decode(self._store.df(sql, params))

    def _current_annotations(self, query: AnnotationQuery) -> pd.DataFrame:
        """The hot path of viewers: one scan of the annotations table; type and image names come
        from a small per-snapshot lookup instead of joining two more DuckLake tables per query."""
        lookup = self._lookups()
        frame_ = self._store.df(*query.select(ROW_COLUMNS))
        frame_.insert(2, "image", frame_["image_id"].map(lookup.image_names))
        frame_.insert(4, "type", frame_["type_id"].map(lookup.type_names))
        frame_.insert(5, "vector_type", frame_["type_id"].map(lookup.vector_types))
        return decode(frame_)

    def count_annotations(self, *, image=None, image_set=None, types=None, bbox=None, version=None,
                          include_deleted: bool = False, user: str | None = None, frame: int | None = None) -> int:
        self.flush()
        query = self.annotation_query(image=image, image_set=image_set, types=types, bbox=bbox, version=version,
                                      include_deleted=include_deleted, user=user, frame=frame)
        return int(self._store.fetchall(*query.count())[0][0])

    def annotation_query(
        self,
        *,
        image=None,
        image_set=None,
        types=None,
        bbox=None,
        version=None,
        include_deleted: bool = False,
        user: str | None = None,
        frame: int | None = None,
        uuids=None,
        source: str = "annotations",
    ) -> AnnotationQuery:
        """The one place where the public filters become WHERE terms (names resolved to ids).

        Every reader of annotations builds its query here, so a predicate all of them must obey
        (visibility in blind review, say) is one ``query.where("…", params)`` added below.
        ``source`` reads another relation with the annotations' columns (DuckLake's change feed).
        """
        snapshot = None if version is None else self._snapshot_of(version)
        query = AnnotationQuery(source=source, snapshot=snapshot)
        ids, set_id = [], None
        if image is not None:
            images = image if isinstance(image, (list, tuple, np.ndarray, pd.Series)) else [image]
            lookup = self._lookups()
            ids = [lookup.image_id(i) for i in images]
            if len(ids) == 1:  # a plain equality lets DuckLake skip other images' files
                query.where("a.image_id = ?", ids[0])
            else:
                query.where("a.image_id IN (SELECT unnest(?::BIGINT[]))", ids)
        if image_set is not None:
            set_id = self._image_set_id(image_set)  # its own images and its members (virtual sets)
            query.where(f"a.image_id IN (SELECT i.image_id FROM images AS i {query.at} "
                        f"WHERE {image_set_term('i', query.at)})", set_id, set_id)
        if types is not None:
            names = [types] if isinstance(types, (str, int)) else list(types)
            query.where("a.type_id IN (SELECT unnest(?::BIGINT[]))", list(self._type_ids(names).values()))
        if bbox is not None:
            x0, y0, x1, y1 = bbox_values(bbox)
            query.where("a.max_x >= ? AND a.min_x <= ? AND a.max_y >= ? AND a.min_y <= ?", x0, x1, y0, y1)
        if not include_deleted:
            query.where("NOT a.deleted")
        if user is not None:
            query.where("a.creator = ?", user)
        if frame is not None:
            query.where("a.frame = ?", int(frame))
        if uuids is not None:
            query.where("a.uuid IN (SELECT unnest(?::UUID[]))", list(normalize_uuids(list(uuids))))
        # Who may see what (review/visibility.py: blind sets, team membership): one predicate here,
        # so every reader above obeys it.
        restrict = getattr(self, "restrict_reads", None)
        if restrict is not None:
            restrict(query, image_ids=ids, image_set_id=set_id)
        return query
