"""Teams, users, memberships, products, annotation types, image sets and images."""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DuplicateNameError, InvalidValueError, PermissionDeniedError, UnknownImageError, UnknownTypeError
from ..shared import palette_color
from .geometry import normalize_vector_type
from .util import check_color, insert_row, load_meta_column, next_id, utcnow
from .validate import meta_text

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


LOOKUP_TABLES = ("annotation_types", "images")


class Lookups:
    """Type and image names: small tables, read once until they change (CatalogMixin._lookups)."""

    def __init__(self, rows: tuple):
        self.rows = rows
        types, images = rows
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

    def _lookups(self, con=None) -> Lookups:
        """Type and image names, kept until a snapshot changes either table (store/stamp.py).
        ``con``: a writing transaction's connection; call this first thing in it."""
        rows = self._type_image_rows(con)
        cached = getattr(self, "_lookup_cache", None)
        if cached is not None and cached.rows is rows:
            return cached
        self._lookup_cache = Lookups(rows)
        return self._lookup_cache

    def _check_writes(self, image_ids=(), image_set=None) -> None:
        """Team mode: PermissionDeniedError for a write to the images (or set) of a team this user
        is not a member of (review's ``check_write_access``). Every write path calls it; a folder
        project has no membership to enforce (anyone with the files can write them)."""
        check = getattr(self, "check_write_access", None)
        if check is not None and self._store.team:
            check(image_ids, image_set)

    def _type_image_rows(self, con=None) -> tuple:
        def read():
            if con is not None:  # in a writer's turn: nobody else commits
                return _rows(con)
            with self._store.reading() as shared:
                return _rows(shared)

        def _rows(c):
            return (c.execute("SELECT type_id, name, vector_type FROM annotation_types").fetchall(),
                    c.execute("SELECT image_id, name FROM images").fetchall())

        return self._store.cache.get("types+images", LOOKUP_TABLES, read)

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
        # Every open adds its user: a read first, so opening a project takes no turn to commit.
        if self._store.fetchall("SELECT 1 FROM users WHERE username = ?", [username]):
            return

        def work(con):
            if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
                return
            con.execute("INSERT INTO users VALUES (?, ?, ?, ?)", [username, display_name, email, utcnow()])

        self._write(work, f"add user {username}")

    def users(self) -> pd.DataFrame:
        return self._store.df("SELECT * FROM users ORDER BY username")

    def add_member(self, team: str | int, username: str, role: str = "member") -> None:
        """Add a user to a team (or change their role). Only an admin of the team may, once it has
        one (the first admin is whoever makes the team's first admin); ``membership_log()`` records
        who did it."""
        if role not in ROLES:
            raise InvalidValueError(f"role {role!r}; expected one of {', '.join(ROLES)}")
        team_id = self._team_id(team)
        self.add_user(username)

        def work(con):
            admins = {r[0] for r in con.execute(
                "SELECT username FROM memberships WHERE team_id = ? AND role = 'admin'", [team_id]).fetchall()}
            if admins and self.user not in admins:
                raise PermissionDeniedError(f"{self.user} is not an admin of team {team!r}: only admins manage members")
            con.execute("DELETE FROM memberships WHERE team_id = ? AND username = ?", [team_id, username])
            con.execute("INSERT INTO memberships VALUES (?, ?, ?)", [team_id, username, role])
            con.execute("INSERT INTO membership_log VALUES (?, ?, ?, 'add', ?, ?)",
                        [team_id, username, role, self.user, utcnow()])

        self._write(work, f"{username} joins team {team_id} as {role}")

    def membership_log(self) -> pd.DataFrame:
        """Who added or changed which membership, and when."""
        return self._store.df(
            "SELECT l.team_id, t.name AS team, l.username, l.role, l.action, l.changed_by, l.changed_at "
            "FROM membership_log l JOIN teams t USING (team_id) ORDER BY l.changed_at")

    def memberships(self) -> pd.DataFrame:
        return self._store.df(
            "SELECT m.team_id, t.name AS team, m.username, m.role FROM memberships m "
            "JOIN teams t USING (team_id) ORDER BY team, username"
        )

    def _team_id(self, team) -> int | None:
        return self._id_by_key("teams", "team_id", team, "team")

    def _id_by_key(self, table: str, id_column: str, key, what: str) -> int | None:
        """The id of a row of a small named table by its id (an int) or its name; None stays None."""
        if key is None:
            return None
        by_id = isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_))
        column, value = (id_column, int(key)) if by_id else ("name", key)
        row = self._store.fetchall(f"SELECT {id_column} FROM {table} WHERE {column} = ?", [value])
        if not row:
            raise InvalidValueError(f"no {what} {key!r} in this project")
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
        return self._id_by_key("products", "product_id", product, "product")

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
        """Add a template; its sort order gives its number key in the viewer. Returns its ``type_id``."""
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
        insert_row(con, "annotation_types", dict(
            type_id=type_id, name=name, vector_type=vector_type, color=color, default_width=width,
            default_height=height, sort_order=sort_order, closed=closed, area_hit_test=area_hit_test,
            example_image=example_image, node_count=node_count, product_id=product_id, meta=meta_text(meta)))
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
            fields["meta"] = meta_text(fields["meta"])
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
        by_name = {name: tid for tid, name in self._lookups(con).type_names.items()}
        if not all(name in by_name or name in by_name.values() for name in names):
            # the kept lookup may trail a type another writer added a moment ago: ask the table
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
        images=None,
    ) -> int:
        """Add an image set owned by ``team`` (the default team when None) with a collaboration
        ``mode``: "cooperative", "blind" or "second_opinion" (``required_verifications`` verdicts).
        ``pseudonymize=True`` gives its images public names. Returns the new ``image_set_id``.
        ``images`` (ids, names, or a frame with ``image_id``) makes it a
        virtual set: it refers to images of other sets without copying them, and an image may be
        in several such sets (training splits). ``add_images`` puts new files in a set."""
        if mode not in MODES:
            raise InvalidValueError(f"collaboration mode {mode!r}; expected one of {', '.join(MODES)}")
        team_id = self._team_id(team)
        product_ids = [self._product_id(p) for p in products]
        member_ids = self._image_ids_of(images) if images is not None else []

        def work(con):
            set_id = self._insert_image_set(con, name, mode, team_id, description, product_ids,
                                            required_verifications, pseudonymize)
            self._insert_members(con, set_id, member_ids)
            return set_id

        return self._write(work, f"add image set {name}")

    def add_to_image_set(self, image_set, images) -> int:
        """Make existing images members of ``image_set`` (a virtual set); returns how many were
        not members yet."""
        set_id = self._image_set_id(image_set)
        member_ids = self._image_ids_of(images)
        return self._write(lambda con: self._insert_members(con, set_id, member_ids),
                           f"add {len(member_ids)} image(s) to image set {image_set}")

    def remove_from_image_set(self, image_set, images) -> int:
        """End the membership of images in a virtual set (the images themselves stay)."""
        set_id = self._image_set_id(image_set)
        member_ids = self._image_ids_of(images)

        def work(con):
            count = con.execute(
                "SELECT count(*) FROM image_set_members WHERE image_set_id = ? AND image_id IN (SELECT unnest(?::BIGINT[]))",
                [set_id, member_ids]).fetchone()[0]
            con.execute("DELETE FROM image_set_members WHERE image_set_id = ? AND image_id IN (SELECT unnest(?::BIGINT[]))",
                        [set_id, member_ids])
            return int(count)

        return self._write(work, f"remove {len(member_ids)} image(s) from image set {image_set}")

    def add_virtual_sets(self, members: dict, *, mode: str = "cooperative", descriptions: dict | None = None,
                         replace: bool = False, message: str | None = None) -> dict[str, int]:
        """Several virtual sets in one snapshot: ``members`` maps a set name to its images.
        ``replace=True`` gives existing virtual sets of those names exactly these members (a set
        holding images of its own is never replaced). Returns name -> image_set_id."""
        if mode not in MODES:
            raise InvalidValueError(f"collaboration mode {mode!r}; expected one of {', '.join(MODES)}")
        resolved = {name: self._image_ids_of(images) for name, images in members.items()}
        descriptions = descriptions or {}

        def work(con):
            out = {}
            for name, image_ids in resolved.items():
                row = con.execute("SELECT image_set_id FROM image_sets WHERE name = ?", [name]).fetchone()
                if row is None:
                    set_id = self._insert_image_set(con, name, mode, description=descriptions.get(name))
                elif not replace:
                    raise DuplicateNameError(f"an image set named {name!r} exists already (replace=True to redefine it)")
                else:
                    set_id = int(row[0])
                    if con.execute("SELECT 1 FROM images WHERE image_set_id = ? LIMIT 1", [set_id]).fetchone():
                        raise InvalidValueError(f"image set {name!r} holds images of its own; only virtual sets are replaced")
                    con.execute("DELETE FROM image_set_members WHERE image_set_id = ?", [set_id])
                    con.execute("UPDATE image_sets SET description = ? WHERE image_set_id = ?",
                                [descriptions.get(name), set_id])
                self._insert_members(con, set_id, image_ids)
                out[name] = set_id
            return out

        return self._write(work, message or f"virtual image sets {', '.join(resolved)}")

    def _image_ids_of(self, images) -> list[int]:
        """Image ids from ids, names, records or a frame with ``image_id``; unknown ones raise."""
        if isinstance(images, pd.DataFrame):
            if "image_id" not in images.columns:
                raise InvalidValueError("a frame of images needs an 'image_id' column")
            images = images["image_id"].tolist()
        elif isinstance(images, (str, int, np.integer, dict)):
            images = [images]
        lookup = self._lookups()
        return list(dict.fromkeys(lookup.image_id(image) for image in images))

    def _insert_members(self, con, set_id: int, image_ids: list[int]) -> int:
        if not image_ids:
            return 0
        present = {int(r[0]) for r in con.execute(
            "SELECT image_id FROM image_set_members WHERE image_set_id = ?", [set_id]).fetchall()}
        new = [i for i in image_ids if i not in present]
        if new:
            con.execute(
                "INSERT INTO image_set_members SELECT ?, unnest(?::BIGINT[]), ?, ?", [set_id, new, self.user, utcnow()])
        return len(new)

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
            "(SELECT count(*) FROM images i WHERE i.image_set_id = s.image_set_id) "
            "+ (SELECT count(*) FROM image_set_members m WHERE m.image_set_id = s.image_set_id) AS image_count, "
            "(SELECT count(*) FROM image_set_members m WHERE m.image_set_id = s.image_set_id) AS member_count "
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

    def add_images(self, paths, image_set=None, *, pseudonymize: bool | None = None, meta=None,
                   mpp: float | None = None) -> pd.DataFrame:
        """Record images by opening each one; returns their rows. A placeholder left by an import
        with the same file name is filled in instead of duplicated. ``mpp`` (microns per level-0
        pixel) is for files that do not say (videos, PNG, JPEG) or say it wrong: it replaces what
        the files give, so areas in mm² and HPF counts can be measured."""
        from ..slides import open_slide

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if mpp is not None:
            given = _float_or_none(mpp)
            if given is None or not math.isfinite(given) or given <= 0:
                raise InvalidValueError(f"mpp must be a positive number of microns per pixel, not {mpp!r}")
        records = []
        for path in paths:
            path = Path(path).expanduser().absolute()
            slide = open_slide(path)  # raises UnsupportedSlideError naming the file
            width, height = slide.dimensions
            records.append(dict(
                path=str(path), name=path.name, width=int(width), height=int(height),
                levels=int(getattr(slide, "level_count", 1)),
                mpp=_float_or_none(mpp if mpp is not None else getattr(slide, "mpp", None)),
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
                if holder:
                    image_id = int(holder[0])
                    con.execute("DELETE FROM images WHERE image_id = ?", [image_id])
                else:
                    image_id = next_id(con, "images", "image_id")
                insert_row(con, "images", dict(
                    image_id=image_id, image_set_id=set_id, public_name=public, **rec, added_by=self.user,
                    added_at=now, pseudonymized=bool(hide), placeholder=False, meta=meta_text(meta)))
                ids.append(image_id)
            return ids

        ids = self._write(work, f"add {len(records)} image(s)")
        return self.images(ids=ids)

    def images(self, image_set=None, *, ids=None, version=None) -> pd.DataFrame:
        """Returns a DataFrame of the images (of ``image_set``, or with ``ids``, at ``version``):
        image_id, name, public_name, path, width, height, levels, mpp, objective_power, frames,
        checksum, vendor, source_format, image_set, added_by, added_at, pseudonymized, meta."""
        at = self._at(version)
        where, params = [], []
        if image_set is not None:
            set_id = self._image_set_id(image_set)
            where.append(image_set_term("i", at))
            params += [set_id, set_id]
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
        if con is not None:  # a transaction's own connection: no other thread uses it
            cursor = con.execute(query, [image])
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row)) for row in cursor.fetchall()]
        else:
            # the store reads the shared connection's cursor under its lock: another thread's
            # query (a viewer's panel, a watcher) would replace its result before it is fetched
            rows = self._store.records(query, [image])
        if not rows:
            raise UnknownImageError(f"no image {image!r} in this project")
        if len(rows) > 1:
            raise UnknownImageError(f"{len(rows)} images are named {image!r}; use the image_id")
        return rows[0]


def image_set_term(alias: str, at: str = "") -> str:
    """SQL for "image ``alias`` is in the set", its own or as a member; two parameters, both the
    set's id. ``at`` is the ``AT (VERSION => …)`` clause of the query, so membership is read at
    the same snapshot as the rest."""
    return (f"({alias}.image_set_id = ? OR {alias}.image_id IN "
            f"(SELECT image_id FROM image_set_members {at} WHERE image_set_id = ?))")


def _float_or_none(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
