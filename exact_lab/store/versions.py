"""Named versions, diffs, per-annotation history and restore — all from DuckLake snapshots and
its change feed; nothing is copied by hand."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InvalidValueError, UnknownAnnotationError, UnknownVersionError, VersionExistsError
from .annotations import decode
from .connection import LAKE
from .query import at_version
from .rows import normalize_uuids
from .util import load_meta_column, utcnow
from .validate import meta_text

# What makes two states of an annotation different (editor and times are bookkeeping).
CONTENT = ("image_id", "type_id", "frame", "geometry", "deleted", "concealed", "blurred",
           "description", "score", "source", "meta")


def content_differs(left: str, right: str) -> str:
    """SQL that is true when the rows aliased ``left`` and ``right`` differ in content."""
    return " OR ".join(f"{left}.{c} IS DISTINCT FROM {right}.{c}" for c in CONTENT)


class VersionsMixin:
    # -- naming snapshots ---------------------------------------------------------------------
    def commit(self, name: str, message: str | None = None) -> dict:
        """Name the current state of the project; returns the version's record."""
        if not name or not isinstance(name, str):
            raise InvalidValueError("a version needs a non-empty name")
        self.flush()

        def work(con):
            if con.execute("SELECT 1 FROM versions WHERE name = ?", [name]).fetchone():
                raise VersionExistsError(f"a version named {name!r} exists already")
            snapshot = int(con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0])
            image_ids = [int(r[0]) for r in con.execute("SELECT image_id FROM images ORDER BY image_id").fetchall()]
            record = dict(name=name, snapshot_id=snapshot, message=message, author=self.user,
                          created_at=utcnow(), image_ids=image_ids)
            con.execute("INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?)", list(record.values()))
            return record

        return self._write(work, f"version {name}" + (f": {message}" if message else ""))

    def versions(self) -> pd.DataFrame:
        """Returns a DataFrame of the named versions, oldest first: name, snapshot_id, message,
        author, created_at, images (how many), artifacts (how many files attached)."""
        frame = self._store.df(
            "SELECT v.name, v.snapshot_id, v.message, v.author, v.created_at, len(v.image_ids) AS images, "
            "(SELECT count(*) FROM version_artifacts a WHERE a.version = v.name) AS artifacts "
            "FROM versions v ORDER BY v.snapshot_id, v.created_at"
        )
        return frame

    def snapshots(self) -> pd.DataFrame:
        """Every DuckLake snapshot with its author and message (the project's full log)."""
        return self._store.df(
            f"SELECT snapshot_id, snapshot_time, author, commit_message, changes FROM {LAKE}.snapshots() "
            "ORDER BY snapshot_id"
        )

    def _snapshot_of(self, version) -> int:
        """A version name, a snapshot id, or None / 'HEAD' for now."""
        if version is None or (isinstance(version, str) and version.upper() == "HEAD"):
            return self._store.current_snapshot()
        if isinstance(version, (int, np.integer)) and not isinstance(version, bool):
            known = self._store.fetchall(f"SELECT 1 FROM {LAKE}.snapshots() WHERE snapshot_id = ?", [int(version)])
            if not known:
                raise UnknownVersionError(f"no snapshot {int(version)} in this project")
            return int(version)
        rows = self._store.fetchall("SELECT snapshot_id FROM versions WHERE name = ?", [version])
        if not rows:
            names = ", ".join(self._store.df("SELECT name FROM versions ORDER BY snapshot_id")["name"]) or "none yet"
            raise UnknownVersionError(f"no version {version!r} (the project has: {names})")
        return int(rows[0][0])

    def _at(self, version) -> str:
        return at_version(None if version is None else self._snapshot_of(version))

    # -- comparing ----------------------------------------------------------------------------
    def _touched_between(self, con, lo: int, hi: int) -> None:
        """Fill temp table _touched with every uuid changed in snapshots (lo, hi]."""
        con.execute("CREATE OR REPLACE TEMP TABLE _touched (uuid UUID)")
        if hi > lo:
            con.execute(
                f"INSERT INTO _touched SELECT DISTINCT uuid FROM {LAKE}.table_changes('annotations', ?, ?)",
                [lo + 1, hi],
            )

    def diff(self, a, b=None) -> pd.DataFrame:
        """What changed from version ``a`` to ``b`` (default: now). Returns a DataFrame with one
        row per annotation: ``uuid``, ``change`` (added / removed / changed) and its geometry
        ``before`` and ``after``."""
        self.flush()
        sa, sb = self._snapshot_of(a), self._snapshot_of(b)
        content = content_differs("x", "y")
        touched = "a.uuid IN (SELECT uuid FROM _touched)"
        x_sql, x_params = self.annotation_query(version=sa, include_deleted=True).where(touched).select()
        y_sql, y_params = self.annotation_query(version=sb, include_deleted=True).where(touched).select()
        with self._store.reading() as con:
            self._touched_between(con, min(sa, sb), max(sa, sb))
            frame = con.execute(
                f"""
                WITH x AS ({x_sql}), y AS ({y_sql})
                SELECT coalesce(x.uuid, y.uuid)::VARCHAR AS uuid,
                       CASE WHEN (x.uuid IS NULL OR x.deleted) THEN 'added'
                            WHEN (y.uuid IS NULL OR y.deleted) THEN 'removed'
                            ELSE 'changed' END AS change,
                       coalesce(y.image_id, x.image_id) AS image_id,
                       tx.name AS type_before, ty.name AS type_after,
                       x.geometry AS before, y.geometry AS after,
                       x.frame AS frame_before, y.frame AS frame_after,
                       x.editor AS editor_before, y.editor AS editor_after,
                       y.updated_at AS updated_at
                FROM x FULL OUTER JOIN y ON x.uuid = y.uuid
                LEFT JOIN annotation_types AS tx AT (VERSION => {sa}) ON x.type_id = tx.type_id
                LEFT JOIN annotation_types AS ty AT (VERSION => {sb}) ON y.type_id = ty.type_id
                WHERE NOT (coalesce(x.deleted, true) AND coalesce(y.deleted, true))
                  AND (x.uuid IS NULL OR y.uuid IS NULL OR {content})
                ORDER BY change, uuid
                """,
                x_params + y_params,
            ).to_arrow_table().to_pandas()
            con.execute("DROP TABLE IF EXISTS _touched")
        from .geometry import from_wkb_array

        frame["before"] = from_wkb_array(frame["before"].to_numpy())
        frame["after"] = from_wkb_array(frame["after"].to_numpy())
        frame.loc[frame["change"] == "removed", "after"] = None
        frame.loc[frame["change"] == "added", "before"] = None
        return frame

    def history(self, uuid: str) -> pd.DataFrame:
        """Every state of one annotation, oldest first. Returns a DataFrame: snapshot_id,
        committed_at, change_type, the annotation's columns, its editor and the commit message."""
        self.flush()
        uuid = normalize_uuids([uuid])[0]
        now = self._store.current_snapshot()
        query = self.annotation_query(
            uuids=[uuid], include_deleted=True, source=f"{LAKE}.table_changes('annotations', 0, {now})",
        ).where("a.change_type IN ('insert', 'update_postimage')")
        frame = self._store.df(*query.select(
            "a.snapshot_id, s.snapshot_time AS committed_at, a.change_type, "
            "a.uuid::VARCHAR AS uuid, a.image_id, t.name AS type, a.geometry, a.frame, "
            "a.min_x AS xmin, a.min_y AS ymin, a.max_x AS xmax, a.max_y AS ymax, a.creator, a.created_at, "
            "a.editor, a.updated_at, a.deleted, a.concealed, a.blurred, a.description, a.score, a.source, "
            "a.meta, s.commit_message AS message",
            joins=(f"JOIN {LAKE}.snapshots() s USING (snapshot_id) "
                   "LEFT JOIN annotation_types t ON a.type_id = t.type_id"),
            order_by="a.snapshot_id, a.rowid",
        ))
        if frame.empty:
            raise UnknownAnnotationError(f"no annotation {uuid} in this project")
        # One state per snapshot: a transaction writes a row at most once, but DuckLake's change
        # feed repeats rows that maintenance moved out of the inlined store.
        frame = frame.drop_duplicates("snapshot_id", keep="last").reset_index(drop=True)
        previous = frame["deleted"].shift(1)
        frame["change"] = np.select(
            [frame.index == 0, frame["deleted"] & ~previous.fillna(False).astype(bool),
             ~frame["deleted"] & previous.fillna(False).astype(bool)],
            ["created", "deleted", "undeleted"],
            default="updated",
        )
        frame = frame.drop(columns=["change_type"])
        return decode(frame)

    def changes_since(self, snapshot: int, image=None):
        """(latest snapshot, current rows of annotations changed after ``snapshot``), deleted
        ones included — what a viewer in another kernel polls for."""
        now = self._store.current_snapshot()
        if now <= snapshot:
            return now, decode(self._store.df(*self._empty_query()))
        with self._store.reading() as con:
            self._touched_between(con, snapshot, now)
            query = self.annotation_query(image=image, include_deleted=True).where("a.uuid IN (SELECT uuid FROM _touched)")
            frame = con.execute(*query.select_named()).to_arrow_table().to_pandas()
            con.execute("DROP TABLE IF EXISTS _touched")
        return now, decode(frame)

    def _empty_query(self) -> tuple[str, list]:
        return self.annotation_query(include_deleted=True).where("false").select_named()

    # -- going back ---------------------------------------------------------------------------
    def restore(self, version) -> int:
        """Make the annotations and verifications equal to ``version`` again, as a new snapshot.
        History is kept: annotations added since are soft-deleted, changed ones rewritten.
        Returns the number of annotations that changed."""
        self.flush()
        snap = self._snapshot_of(version)
        name = version if isinstance(version, str) else f"snapshot {snap}"
        user = self.user

        def work(con):
            now_snap = int(con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0])
            self._touched_between(con, min(snap, now_snap), max(snap, now_snap))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _old AS SELECT * FROM annotations AT (VERSION => {snap}) "
                "WHERE uuid IN (SELECT uuid FROM _touched)"
            )
            changed = con.execute(
                f"SELECT count(*) FROM _old o JOIN annotations a ON a.uuid = o.uuid WHERE {content_differs('o', 'a')}"
            ).fetchone()[0]
            columns = [c for c in CONTENT] + ["min_x", "min_y", "max_x", "max_y"]
            sets = ", ".join(f"{c} = o.{c}" for c in columns)
            con.execute(
                f"UPDATE annotations SET {sets}, editor = ?, updated_at = ? FROM _old o "
                f"WHERE annotations.uuid = o.uuid AND ({content_differs('o', 'annotations')})",
                [user, utcnow()],
            )
            # Present now but not at the version: soft delete.
            added = con.execute(
                "SELECT count(*) FROM annotations WHERE uuid IN (SELECT uuid FROM _touched) "
                "AND uuid NOT IN (SELECT uuid FROM _old) AND NOT deleted"
            ).fetchone()[0]
            con.execute(
                "UPDATE annotations SET deleted = true, editor = ?, updated_at = ? "
                "WHERE uuid IN (SELECT uuid FROM _touched) AND uuid NOT IN (SELECT uuid FROM _old) AND NOT deleted",
                [user, utcnow()],
            )
            # Verifications are small: put back the old table as it was.
            con.execute("DELETE FROM verifications")
            con.execute(f"INSERT INTO verifications SELECT * FROM verifications AT (VERSION => {snap})")
            con.execute("DROP TABLE IF EXISTS _old")
            con.execute("DROP TABLE IF EXISTS _touched")
            return int(changed) + int(added)

        count = self._write(work, f"restore {name}")
        self._notify(None, None)
        return count

    # -- artifacts ----------------------------------------------------------------------------
    def add_artifact(self, version: str, path, name: str | None = None, meta: dict | None = None) -> dict:
        """Attach a file (metrics, a model, anything) to a version; it is copied into the project."""
        self._snapshot_of(version)  # must exist
        source = Path(path)
        if not source.is_file():
            raise InvalidValueError(f"{source} is not a file")
        name = name or source.name
        digest = hashlib.sha256()
        with open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        target_dir = Path(self._store.data_path) / "artifacts" / _safe(version)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / _safe(name)
        shutil.copyfile(source, target)
        record = dict(version=version, name=name, path=str(target), size=source.stat().st_size,
                      sha256=digest.hexdigest(), added_by=self.user, added_at=utcnow(), meta=meta_text(meta))

        def work(con):
            con.execute("DELETE FROM version_artifacts WHERE version = ? AND name = ?", [version, name])
            con.execute("INSERT INTO version_artifacts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(record.values()))

        self._write(work, f"artifact {name} for {version}")
        return record

    def artifacts(self, version: str | None = None) -> pd.DataFrame:
        where, params = "", []
        if version is not None:
            self._snapshot_of(version)
            where, params = "WHERE version = ?", [version]
        frame = self._store.df(f"SELECT * FROM version_artifacts {where} ORDER BY version, name", params)
        frame["meta"] = load_meta_column(frame["meta"])
        return frame

    def artifact_path(self, version: str, name: str) -> Path:
        rows = self._store.fetchall("SELECT path FROM version_artifacts WHERE version = ? AND name = ?", [version, name])
        if not rows:
            raise UnknownVersionError(f"version {version!r} has no artifact {name!r}")
        return Path(rows[0][0])


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"
