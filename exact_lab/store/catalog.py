"""Teams, users, memberships, products, annotation types, image sets and images."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DuplicateNameError, InvalidValueError, UnknownImageError, UnknownTypeError
from ..shared import palette_color
from .geometry import normalize_vector_type
from .util import check_color, dump_meta, load_meta_column, next_id, utcnow

MODES = ("cooperative", "blind", "second_opinion")
ROLES = ("admin", "member")

def pseudonym(name: str, when: _dt.datetime | None = None) -> str:
    """``yymmdd-hhmm-`` plus a short hash of the original name, keeping the extension."""
    when = when or utcnow()
    suffix = "".join(Path(name).suffixes[-2:]) if Path(name).suffix else ""
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{when:%y%m%d-%H%M}-{digest}{suffix}"


def file_checksum(path: str | os.PathLike) -> str:
    """sha256 of a file, or of every file in a folder (DICOM sets), in name order."""
    try:
        from ..slides import file_checksum as slide_checksum  # the slides package may offer a faster one

        return slide_checksum(path)
    except ImportError:
        pass
    digest = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class Lookups:
    """Type and image names at one snapshot: small tables, read once per snapshot."""

    def __init__(self, snapshot: int, types, images):
        self.snapshot = snapshot
        self.type_names = {int(t): n for t, n, _ in types}
        self.vector_types = {int(t): v for t, _, v in types}
        self.image_names = {int(i): n for i, n in images}
        self._by_name: dict = {}
        for image_id, name in images:
            self._by_name.setdefault(name, []).append(int(image_id))

    def image_id(self, image) -> int:
        if isinstance(image, dict):
            image = image["image_id"]
        if hasattr(image, "item") and not isinstance(image, str):
            image = image.item()
        if isinstance(image, int) and not isinstance(image, bool):
            if image not in self.image_names:
                raise UnknownImageError(f"no image {image!r} in this project")
            return image
        ids = self._by_name.get(image, [])
        if not ids:
            raise UnknownImageError(f"no image {image!r} in this project")
        if len(ids) > 1:
            raise UnknownImageError(f"{len(ids)} images are named {image!r}; use the image_id")
        return ids[0]


class CatalogMixin:
    """The parts of the data model that describe who works on what."""

    def _lookups(self) -> Lookups:
        snapshot = self._store.current_snapshot()
        cached = getattr(self, "_lookup_cache", None)
        if cached is not None and cached.snapshot == snapshot:
            return cached
        with self._store.lock:
            con = self._store.con
            types = con.execute("SELECT type_id, name, vector_type FROM annotation_types").fetchall()
            images = con.execute("SELECT image_id, name FROM images").fetchall()
        self._lookup_cache = Lookups(snapshot, types, images)
        return self._lookup_cache

    # -- teams and users ----------------------------------------------------------------------
    def add_team(self, name: str) -> int:
        def work(con):
            if con.execute("SELECT 1 FROM teams WHERE name = ?", [name]).fetchone():
                raise DuplicateNameError(f"a team named {name!r} exists already")
            team_id = next_id(con, "teams", "team_id")
            con.execute("INSERT INTO teams VALUES (?, ?, ?)", [team_id, name, utcnow()])
            return team_id

        return self._write(work, f"add team {name}")

    def teams(self) -> pd.DataFrame:
        return self._store.df("SELECT * FROM teams ORDER BY team_id")

    def add_user(self, username: str, display_name: str | None = None, email: str | None = None) -> None:
        def work(con):
            if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
                return
            con.execute("INSERT INTO users VALUES (?, ?, ?, ?)", [username, display_name, email, utcnow()])

        self._write(work, f"add user {username}")

    def users(self) -> pd.DataFrame:
        return self._store.df("SELECT * FROM users ORDER BY username")

    def add_member(self, team: str | int, username: str, role: str = "member") -> None:
        if role not in ROLES:
            raise InvalidValueError(f"role {role!r}; expected one of {', '.join(ROLES)}")
        team_id = self._team_id(team)
        self.add_user(username)

        def work(con):
            con.execute("DELETE FROM memberships WHERE team_id = ? AND username = ?", [team_id, username])
            con.execute("INSERT INTO memberships VALUES (?, ?, ?)", [team_id, username, role])

        self._write(work, f"{username} joins team {team_id} as {role}")

    def memberships(self) -> pd.DataFrame:
        return self._store.df(
            "SELECT m.team_id, t.name AS team, m.username, m.role FROM memberships m "
            "JOIN teams t USING (team_id) ORDER BY team, username"
        )

    def _team_id(self, team) -> int:
        if team is None:
            return None
        column = "team_id" if isinstance(team, int) else "name"
        row = self._store.fetchall(f"SELECT team_id FROM teams WHERE {column} = ?", [team])
        if not row:
            raise InvalidValueError(f"no team {team!r} in this project")
        return int(row[0][0])

    # -- products and annotation types -----------------------------------------------------
    def add_product(self, name: str, team=None, description: str | None = None) -> int:
        team_id = self._team_id(team)

        def work(con):
            if con.execute("SELECT 1 FROM products WHERE name = ?", [name]).fetchone():
                raise DuplicateNameError(f"a product named {name!r} exists already")
            product_id = next_id(con, "products", "product_id")
            con.execute("INSERT INTO products VALUES (?, ?, ?, ?)", [product_id, name, team_id, description])
            return product_id

        return self._write(work, f"add product {name}")

    def products(self) -> pd.DataFrame:
        return self._store.df("SELECT * FROM products ORDER BY product_id")

    def _product_id(self, product) -> int | None:
        if product is None:
            return None
        column = "product_id" if isinstance(product, int) else "name"
        row = self._store.fetchall(f"SELECT product_id FROM products WHERE {column} = ?", [product])
        if not row:
            raise InvalidValueError(f"no product {product!r} in this project")
        return int(row[0][0])

    def add_annotation_type(
        self,
        name: str,
        vector_type: str,
        *,
        color: str | None = None,
        default_size: tuple[float, float] | None = None,
        product=None,
        sort_order: int | None = None,
        closed: bool | None = None,
        area_hit_test: bool = True,
        node_count: int | None = None,
        example_image: bytes | None = None,
        meta: dict | None = None,
    ) -> int:
        """Add a template; its sort order gives its number key in the viewer."""
        vector_type = normalize_vector_type(vector_type)
        color = check_color(color)
        if default_size is not None:
            if len(default_size) != 2 or min(default_size) <= 0:
                raise InvalidValueError(f"default_size must be (width, height) > 0, got {default_size!r}")
        elif vector_type == "fixed_box":
            raise InvalidValueError("a 'fixed_box' type needs default_size=(width, height)")
        product_id = self._product_id(product)
        if closed is None:
            closed = vector_type in ("box", "fixed_box", "ellipse", "polygon", "mask")

        def work(con):
            return self._insert_type(
                con, name, vector_type, color, default_size, product_id, sort_order, closed,
                area_hit_test, node_count, example_image, meta,
            )

        return self._write(work, f"add annotation type {name}")

    def _insert_type(self, con, name, vector_type, color=None, default_size=None, product_id=None,
                     sort_order=None, closed=None, area_hit_test=True, node_count=None,
                     example_image=None, meta=None) -> int:
        if con.execute("SELECT 1 FROM annotation_types WHERE name = ?", [name]).fetchone():
            raise DuplicateNameError(f"an annotation type named {name!r} exists already")
        type_id = next_id(con, "annotation_types", "type_id")
        if sort_order is None:
            sort_order = int(con.execute("SELECT coalesce(max(sort_order), 0) + 1 FROM annotation_types").fetchone()[0])
        if color is None:
            color = palette_color(type_id - 1)
        width, height = default_size if default_size is not None else (None, None)
        if closed is None:
            closed = vector_type in ("box", "fixed_box", "ellipse", "polygon", "mask")
        con.execute(
            "INSERT INTO annotation_types VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [type_id, name, vector_type, color, width, height, sort_order, closed, area_hit_test,
             example_image, node_count, product_id, dump_meta(meta)],
        )
        return type_id

    def update_annotation_type(self, name: str, **fields) -> None:
        allowed = {"name", "color", "default_width", "default_height", "sort_order", "closed",
                   "area_hit_test", "node_count", "product_id", "meta"}
        unknown = set(fields) - allowed
        if unknown:
            raise InvalidValueError(f"cannot change {', '.join(sorted(unknown))} of a type")
        if "color" in fields:
            fields["color"] = check_color(fields["color"])
        if "meta" in fields:
            fields["meta"] = dump_meta(fields["meta"])
        type_id = self._type_ids([name])[name]

        def work(con):
            for column, value in fields.items():
                con.execute(f"UPDATE annotation_types SET {column} = ? WHERE type_id = ?", [value, type_id])

        self._write(work, f"update annotation type {name}")

    def annotation_types(self, product=None) -> pd.DataFrame:
        where = ""
        params = []
        if product is not None:
            where = "WHERE product_id = ?"
            params = [self._product_id(product)]
        frame = self._store.df(
            "SELECT type_id, name, vector_type, color, default_width, default_height, sort_order, "
            "closed, area_hit_test, node_count, product_id, meta FROM annotation_types "
            f"{where} ORDER BY sort_order, type_id",
            params,
        )
        frame["meta"] = load_meta_column(frame["meta"])
        return frame

    def _type_ids(self, names, con=None) -> dict:
        """name (or id) -> type_id; UnknownTypeError for anything missing."""
        query = "SELECT type_id, name FROM annotation_types"
        rows = (con.execute(query).fetchall() if con is not None else self._store.fetchall(query))
        by_name = {name: int(tid) for tid, name in rows}
        ids = set(by_name.values())
        out = {}
        for name in names:
            # any integer (Python or numpy) is an id; floats are not (2.5 must not become 2)
            if isinstance(name, (int, np.integer)) and not isinstance(name, (bool, np.bool_)) and int(name) in ids:
                out[name] = int(name)
            elif name in by_name:
                out[name] = by_name[name]
            else:
                known = ", ".join(sorted(by_name)) or "none yet"
                raise UnknownTypeError(f"unknown annotation type {name!r} (the project has: {known})")
        return out

    # -- image sets and images --------------------------------------------------------------
    def add_image_set(
        self,
        name: str,
        mode: str = "cooperative",
        *,
        team=None,
        description: str | None = None,
        products=(),
        required_verifications: int = 1,
        pseudonymize: bool = False,
    ) -> int:
        if mode not in MODES:
            raise InvalidValueError(f"collaboration mode {mode!r}; expected one of {', '.join(MODES)}")
        team_id = self._team_id(team)
        product_ids = [self._product_id(p) for p in products]

        def work(con):
            return self._insert_image_set(con, name, mode, team_id, description, product_ids,
                                          required_verifications, pseudonymize)

        return self._write(work, f"add image set {name}")

    def _insert_image_set(self, con, name, mode="cooperative", team_id=None, description=None,
                          product_ids=(), required_verifications=1, pseudonymize=False) -> int:
        if con.execute("SELECT 1 FROM image_sets WHERE name = ?", [name]).fetchone():
            raise DuplicateNameError(f"an image set named {name!r} exists already")
        set_id = next_id(con, "image_sets", "image_set_id")
        con.execute(
            "INSERT INTO image_sets VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [set_id, name, team_id, mode, required_verifications, description, pseudonymize, utcnow()],
        )
        for product_id in product_ids:
            con.execute("INSERT INTO image_set_products VALUES (?, ?)", [set_id, product_id])
        return set_id

    def image_sets(self) -> pd.DataFrame:
        return self._store.df(
            "SELECT s.*, (SELECT list(p.name ORDER BY p.name) FROM image_set_products sp "
            "JOIN products p USING (product_id) WHERE sp.image_set_id = s.image_set_id) AS products, "
            "(SELECT count(*) FROM images i WHERE i.image_set_id = s.image_set_id) AS image_count "
            "FROM image_sets s ORDER BY image_set_id"
        )

    def _image_set_id(self, image_set, con=None, create: bool = False) -> int | None:
        if image_set is None:
            return None
        column = "image_set_id" if isinstance(image_set, int) else "name"
        query = f"SELECT image_set_id FROM image_sets WHERE {column} = ?"
        rows = con.execute(query, [image_set]).fetchall() if con is not None else self._store.fetchall(query, [image_set])
        if rows:
            return int(rows[0][0])
        if create and con is not None and isinstance(image_set, str):
            return self._insert_image_set(con, image_set)
        raise InvalidValueError(f"no image set {image_set!r} in this project")

    def add_images(self, paths, image_set=None, *, pseudonymize: bool | None = None, meta=None) -> pd.DataFrame:
        """Record images by opening each one; returns their rows. A placeholder left by an import
        with the same file name is filled in instead of duplicated."""
        from ..slides import open_slide

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        records = []
        for path in paths:
            path = Path(path).expanduser().absolute()
            slide = open_slide(path)  # raises UnsupportedSlideError naming the file
            width, height = slide.dimensions
            records.append(dict(
                path=str(path), name=path.name, width=int(width), height=int(height),
                levels=int(getattr(slide, "level_count", 1)),
                mpp=_float_or_none(getattr(slide, "mpp", None)),
                objective_power=_float_or_none(getattr(slide, "objective_power", None)),
                frames=int(getattr(slide, "frames", 1) or 1),
                vendor=getattr(slide, "vendor", None),
                source_format=getattr(slide, "source_format", None),
                checksum=file_checksum(path),
            ))
        if image_set is None:
            image_set = "default"

        def work(con):
            set_id = self._image_set_id(image_set, con=con, create=True)
            hide = pseudonymize
            if hide is None:
                hide = bool(con.execute("SELECT pseudonymize FROM image_sets WHERE image_set_id = ?", [set_id]).fetchone()[0])
            ids = []
            now = utcnow()
            for rec in records:
                public = pseudonym(rec["name"], now) if hide else rec["name"]
                holder = con.execute(
                    "SELECT image_id FROM images WHERE image_set_id = ? AND name = ? AND placeholder",
                    [set_id, rec["name"]],
                ).fetchone()
                values = [set_id, rec["name"], public, rec["path"], rec["width"], rec["height"], rec["levels"],
                          rec["mpp"], rec["objective_power"], rec["frames"], rec["checksum"], rec["vendor"],
                          rec["source_format"], self.user, now, bool(hide), False, dump_meta(meta)]
                if holder:
                    image_id = int(holder[0])
                    con.execute("DELETE FROM images WHERE image_id = ?", [image_id])
                else:
                    image_id = next_id(con, "images", "image_id")
                con.execute("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [image_id] + values)
                ids.append(image_id)
            return ids

        ids = self._write(work, f"add {len(records)} image(s)")
        return self.images(ids=ids)

    def images(self, image_set=None, *, ids=None, version=None) -> pd.DataFrame:
        at = self._at(version)
        where, params = [], []
        if image_set is not None:
            where.append("i.image_set_id = ?")
            params.append(self._image_set_id(image_set))
        if ids is not None:
            where.append("i.image_id IN (SELECT unnest(?::BIGINT[]))")
            params.append([int(i) for i in ids])
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        frame = self._store.df(
            f"SELECT i.image_id, i.name, i.public_name, i.path, i.width, i.height, i.levels, i.mpp, "
            f"i.objective_power, i.frames, i.checksum, i.vendor, i.source_format, s.name AS image_set, "
            f"i.image_set_id, i.added_by, i.added_at, i.pseudonymized, i.placeholder, i.meta "
            f"FROM images AS i {at} LEFT JOIN image_sets AS s {at} USING (image_set_id) {clause} ORDER BY i.image_id",
            params,
        )
        frame["meta"] = load_meta_column(frame["meta"])
        return frame

    def image(self, image) -> dict:
        """One image's record as a dict, by id or by (unique) name."""
        return self._image_row(image)

    def _image_row(self, image, con=None) -> dict:
        if isinstance(image, dict):
            image = image["image_id"]
        if hasattr(image, "item") and not isinstance(image, str):
            image = image.item()
        column = "image_id" if isinstance(image, int) else "name"
        query = f"SELECT * FROM images WHERE {column} = ?"
        cursor = con.execute(query, [image]) if con is not None else self._store.sql(query, [image])
        rows = cursor.fetchall()
        names = [d[0] for d in cursor.description]
        if not rows:
            raise UnknownImageError(f"no image {image!r} in this project")
        if len(rows) > 1:
            raise UnknownImageError(f"{len(rows)} images are named {image!r}; use the image_id")
        return dict(zip(names, rows[0]))


def _float_or_none(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
