"""Turn what users hand in (DataFrames, Arrow tables, records) into annotation rows ready for one
Arrow insert: types and images resolved, every column checked (validate.py), geometry encoded,
uuids minted. Rows stay in input order here, so every error names the caller's row."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import InvalidGeometryError, InvalidValueError, UnknownImageError, UnknownTypeError
from . import validate
from .geometry import bounds_of, box_wkb_array, to_geometry_array, wkb_array
from .util import utcnow

BOX_COLUMNS = ("xmin", "ymin", "xmax", "ymax")
_BOXLIKE = {"box", "fixed_box", "ellipse"}

def new_uuid_array(n: int) -> pa.Array:
    """n random (version 4) uuids as Arrow's uuid type: 16 bytes each from numpy. DuckDB takes
    that type as its own UUID without parsing text, which matters for million-row inserts."""
    raw = np.frombuffer(np.random.default_rng().bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    storage = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), n, [None, pa.py_buffer(raw)])
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)


def uuid_strings(values) -> pa.Array:
    """Canonical text of a uuid column (Arrow uuid or already text)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type == pa.string():
        return values
    if len(values) < 50_000:
        return pa.array([str(u) for u in values.to_pylist()], type=pa.string())
    with duckdb.connect() as con:  # C++ formatting beats a Python loop for big columns
        con.register("_uuids", pa.table({"u": values}))
        return con.execute("SELECT u::VARCHAR AS u FROM _uuids").to_arrow_table().column("u").combine_chunks()


def new_uuids(n: int) -> np.ndarray:
    return uuid_strings(new_uuid_array(n)).to_numpy(zero_copy_only=False)


def normalize_uuids(values) -> np.ndarray:
    """Canonical uuid text for each value; a bad one is refused naming its position."""
    return validate.uuid_texts(list(values))


def as_frame(rows) -> pd.DataFrame:
    """What callers hand in as a DataFrame with a fresh 0..n-1 index (the row numbers in errors)."""
    if isinstance(rows, pd.DataFrame):
        return rows.reset_index(drop=True)
    if isinstance(rows, pa.Table):
        return rows.to_pandas()
    if isinstance(rows, dict):
        return pd.DataFrame([rows])
    try:
        records = list(rows)
        return pd.DataFrame(records)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(
            f"annotations must be a DataFrame, an Arrow table, a dict or a list of dicts, not {type(rows).__name__}"
        ) from exc


SORT_ABOVE = 10_000  # bulk inserts larger than this are written in spatial order


def top_edge_order(min_y) -> np.ndarray:
    """Row order by top edge, so each Parquet row group of a big insert covers a narrow band of
    the image and viewport queries skip the rest by their min/max statistics."""
    top = np.nan_to_num(np.asarray(min_y, dtype=np.float64))  # geometry-less rows sort first
    lo, hi = top.min(), top.max()
    # 65,536 bands, far narrower than a row group's: numpy sorts 16-bit keys by radix in linear
    # time (a stable float sort of a million tops took 0.15 s)
    band = ((top - lo) * (65535 / max(hi - lo, 1e-9))).astype(np.uint16)
    return np.argsort(band, kind="stable")


@dataclass
class Known:
    """The project's types (type_id, name, vector_type) and images (image_id, name) rows are
    checked against: read in the writing transaction, or taken from the project's cached lookup
    (CatalogMixin._lookups, kept until a snapshot changes those tables: two catalog scans less
    per commit)."""

    types: list
    images: list

    @classmethod
    def read(cls, con) -> Known:
        return cls(con.execute("SELECT type_id, name, vector_type FROM annotation_types").fetchall(),
                   con.execute("SELECT image_id, name FROM images").fetchall())

    @classmethod
    def of(cls, lookups) -> Known:
        types, images = lookups.rows
        return cls(list(types), list(images))


def resolve_types(known: Known, frame: pd.DataFrame, type_map=None) -> tuple[np.ndarray, np.ndarray]:
    """(type_id, vector_type) of every row from its ``type_id`` or ``type`` (name or id)."""
    type_rows = known.types
    by_name = {name: (int(tid), vt) for tid, name, vt in type_rows}
    by_id = {int(tid): (int(tid), vt) for tid, name, vt in type_rows}
    if "type_id" in frame.columns:
        column, keys, names_allowed = "type_id", frame["type_id"].to_numpy(), False
    elif "type" in frame.columns:
        column, keys, names_allowed = "type", frame["type"].to_numpy(), True
        if type_map:
            keys = np.array([type_map.get(k, k) for k in keys], dtype=object)
    else:
        raise InvalidValueError("annotations need a 'type' (template name) or 'type_id' column")
    codes, uniq = validate.factorize(keys, column)
    if (codes < 0).any():  # None / NaN: never some other type
        row = int(np.argmax(codes < 0))
        raise InvalidValueError(f"row {row}: {column} is missing (got {keys[row]!r})")
    uniq = np.asarray(uniq, dtype=object)
    type_ids = np.empty(len(uniq), dtype=np.int64)
    vts = np.empty(len(uniq), dtype=object)
    for j, key in enumerate(uniq):
        hit = None
        if isinstance(key, str):
            hit = by_name.get(key) if names_allowed else None
            if hit is None and key.strip().isdigit():
                hit = by_id.get(int(key))
        elif isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, float, np.integer, np.floating)) \
                or float(key) != int(key):
            row = int(np.argmax(codes == j))
            raise InvalidValueError(f"row {row}: {column} {key!r} is neither a type name nor a whole type id")
        else:
            hit = by_id.get(int(key))
        if hit is None:
            row = int(np.argmax(codes == j))
            known = ", ".join(sorted(by_name)) or "none yet"
            raise UnknownTypeError(f"row {row}: unknown annotation type {key!r} (the project has: {known})")
        type_ids[j], vts[j] = hit
    return type_ids[codes], vts[codes]


def resolve_images(known: Known, frame: pd.DataFrame) -> np.ndarray:
    """The image_id of every row from its ``image_id`` or ``image`` (name or id)."""
    rows = known.images
    if "image_id" in frame.columns:
        image_ids = validate.integers(frame["image_id"].to_numpy(), "image_id")
        known = np.array([int(r[0]) for r in rows], dtype=np.int64)
        unknown = ~np.isin(image_ids, known)
        if unknown.any():
            row = int(np.argmax(unknown))
            raise UnknownImageError(f"row {row}: no image {image_ids[row]} in this project")
        return image_ids
    if "image" not in frame.columns:
        raise InvalidValueError("annotations need an 'image_id' (or 'image' name) column")
    by_key: dict = {}
    for image_id, name in rows:
        by_key.setdefault(name, int(image_id))
        by_key[int(image_id)] = int(image_id)
    names = frame["image"].to_numpy()
    codes, uniq = validate.factorize(names, "image")
    if (codes < 0).any():
        row = int(np.argmax(codes < 0))
        raise InvalidValueError(f"row {row}: image is missing (got {names[row]!r})")
    ids = np.empty(len(uniq), dtype=np.int64)
    for j, key in enumerate(np.asarray(uniq, dtype=object)):
        hit = by_key.get(key)
        if hit is None:
            row = int(np.argmax(codes == j))
            raise UnknownImageError(f"row {row}: no image {key!r} in this project")
        ids[j] = hit
    return ids[codes]


def resolve_uuids(con, frame: pd.DataFrame) -> pa.Array:
    """Given uuids checked (form, not twice, not in the project yet); missing ones minted."""
    n = len(frame)
    if "uuid" not in frame.columns or not frame["uuid"].notna().any():
        return new_uuid_array(n)
    given = frame["uuid"].to_numpy(dtype=object)
    has = ~pd.isna(given)
    rows = np.nonzero(has)[0]
    texts = validate.uuid_texts(given[has], rows=rows)
    validate.unique_uuids(texts, rows)
    con.register("_given_uuids", pa.table({"uuid": pa.array(texts, type=pa.string())}))
    try:
        taken = con.execute(
            "SELECT a.uuid::VARCHAR FROM annotations a JOIN _given_uuids g ON a.uuid = g.uuid::UUID LIMIT 1"
        ).fetchall()
    finally:
        con.unregister("_given_uuids")
    if taken:
        row = int(rows[np.argmax(texts == taken[0][0])])
        raise InvalidValueError(f"row {row}: uuid {taken[0][0]} is already in the project")
    uuids = np.empty(n, dtype=object)
    uuids[has] = texts
    if (~has).any():
        uuids[~has] = new_uuids(int((~has).sum()))
    return pa.array(uuids, type=pa.string())


def resolve_geometry(frame: pd.DataFrame, vector_types: np.ndarray, warnings: list | None = None) -> tuple[pa.Array, np.ndarray]:
    """(WKB column, (n, 4) bounds) from a ``geometry`` column, or box columns for box types."""
    n = len(frame)
    if "geometry" in frame.columns:
        geoms = to_geometry_array(frame["geometry"].to_numpy())
        validate.check_geometries(geoms, vector_types, warnings=warnings)
        return wkb_array(geoms), bounds_of(geoms)
    if all(c in frame.columns for c in BOX_COLUMNS):
        bounds = np.column_stack([validate.numbers(frame[c].to_numpy(), c) for c in BOX_COLUMNS])
        not_box = ~np.isin(vector_types, list(_BOXLIKE))
        if not_box.any():
            i = int(np.argmax(not_box))
            raise InvalidGeometryError(f"row {i}: a {vector_types[i]!r} annotation needs a geometry, not box columns")
        validate.check_boxes(bounds)
        return box_wkb_array(bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3]), bounds
    not_global = vector_types != "global"
    if not_global.any():
        raise InvalidGeometryError(f"row {int(np.argmax(not_global))}: annotations need a 'geometry' column "
                                   "(or xmin, ymin, xmax, ymax for boxes)")
    return pa.nulls(n, pa.binary()), np.full((n, 4), np.nan)


def build_annotation_table(con, rows, *, user: str, type_map=None, known: Known | None = None,
                           warnings: list | None = None) -> pa.Table:
    """Check ``rows`` and return an Arrow table in the annotations table's column order, rows in
    input order. Raises the project's own error naming the first bad input row; ``warnings``
    (imports) collects what is stored as given but worth telling (see check_geometries)."""
    frame = as_frame(rows)
    n = len(frame)
    if n == 0:
        raise InvalidValueError("no annotations to add (the rows are empty)")
    known = known or Known.read(con)
    type_ids, vector_types = resolve_types(known, frame, type_map)
    image_ids = resolve_images(known, frame)
    wkb, bounds = resolve_geometry(frame, vector_types, warnings)
    uuids = resolve_uuids(con, frame)

    def given(name):
        return frame[name].to_numpy() if name in frame.columns else None

    def text_column(name):
        values = given(name)
        return pa.nulls(n, pa.string()) if values is None else pa.array(validate.texts(values, name), type=pa.string())

    def flag_column(name):
        values = given(name)
        return pa.repeat(pa.scalar(False), n) if values is None else pa.array(validate.flags(values, name))

    frames = given("frame")
    score = given("score")
    meta = given("meta")
    creator = given("creator")
    created_at = pa.repeat(pa.scalar(utcnow(), pa.timestamp("us")), n)
    return pa.table({
        "uuid": uuids,
        "image_id": pa.array(image_ids, type=pa.int64()),
        "type_id": pa.array(type_ids, type=pa.int64()),
        "frame": pa.repeat(pa.scalar(0, pa.int32()), n) if frames is None else pa.array(
            validate.integers(frames, "frame", minimum=0, default=0), type=pa.int32()),
        "geometry": wkb,
        "min_x": pa.array(bounds[:, 0]),
        "min_y": pa.array(bounds[:, 1]),
        "max_x": pa.array(bounds[:, 2]),
        "max_y": pa.array(bounds[:, 3]),
        "creator": pa.repeat(pa.scalar(user, pa.string()), n) if creator is None else pa.array(
            np.where(pd.isna(creator), user, validate.texts(creator, "creator")), type=pa.string()),
        "created_at": created_at,
        "editor": pa.repeat(pa.scalar(user, pa.string()), n),
        "updated_at": created_at,
        "deleted": pa.repeat(pa.scalar(False), n),
        "concealed": flag_column("concealed"),
        "blurred": flag_column("blurred"),
        "description": text_column("description"),
        "score": pa.nulls(n, pa.float64()) if score is None else pa.array(validate.scores(score), from_pandas=True),
        "source": text_column("source"),
        "meta": pa.nulls(n, pa.string()) if meta is None else pa.array(validate.metas(meta), type=pa.string()),
    })
