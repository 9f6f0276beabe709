"""The Project: one annotation data set in a DuckLake store, and the API users work with."""

from __future__ import annotations

import getpass
import logging
import os
import threading

import duckdb
import pandas as pd

from .analysis.mixin import AnalysisMixin
from .datasets.mixin import DatasetsMixin
from .errors import CatalogDamagedError, ExactLabError, ProjectLocationError
from .masks.files import MaskFilesMixin
from .masks.mixin import MasksMixin
from .masks.progress import ProgressMixin
from .masks.tilestore import TABLE as MASK_TABLE
from .masks.tilestore import TABLE_OPTIONS as MASK_TABLE_OPTIONS
from .measure.mixin import MeasureMixin
from .review.mixin import ReviewMixin
from .store.annotations import AnnotationsMixin
from .store.catalog import CatalogMixin
from .store.connection import LAKE, SMALL_TRANSACTION_ROWS, Store
from .store.importing import ImportMixin
from .store.schema import SCHEMA_VERSION, TABLES, create_statements
from .store.session import EditSession
from .store.versions import VersionsMixin
from .store.watch import WatchMixin
from .store.workflow import WorkflowMixin
from .video.mixin import VideoMixin

log = logging.getLogger(__name__)

ANNOTATION_ROW_GROUP = 16_384


def current_user() -> str:
    """JupyterHub's user when running under a hub, else the operating-system user."""
    return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()


def open_project(location, data: str | None = None, user: str | None = None, *, read_only: bool = False) -> Project:
    """Open (or create) a project; returns the ``Project``.

    ``location`` is a folder (embedded store: SQLite catalog + Parquet files, created if missing)
    or a ``postgresql://`` URL (team store) together with ``data=``, the shared folder or
    object-store URL for the data files.
    """
    return Project(location, data=data, user=user, read_only=read_only)


# One mixin a room (or a part of the store), one per line: each adds its part of the public API.
class Project(
    CatalogMixin,
    AnnotationsMixin,
    MasksMixin,  # before VersionsMixin: its restore() covers masks too
    ProgressMixin,
    MaskFilesMixin,
    VersionsMixin,
    WorkflowMixin,
    ImportMixin,
    WatchMixin,
    AnalysisMixin,
    DatasetsMixin,
    ReviewMixin,
    VideoMixin,
    MeasureMixin,
):
    def __init__(self, location, data: str | None = None, user: str | None = None, *, read_only: bool = False):
        self.location = str(location)
        self.user = user or current_user()
        self._store = Store(self.location, data=data, read_only=read_only)
        self._listeners: list = []
        self._listeners_lock = threading.Lock()
        if not read_only:
            self._ensure_schema()
            self.add_user(self.user)
        self._check_schema()
        self.session = EditSession(self)

    # -- set-up -------------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        existing = {r[0] for r in self._store.fetchall(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [LAKE])}
        if set(TABLES) <= existing:
            self._tune_mask_tiles()
            return

        def work(con):
            for statement in create_statements():
                con.execute(statement)
            if not con.execute("SELECT 1 FROM project_info WHERE key = 'schema_version'").fetchone():
                con.execute("INSERT INTO project_info VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])

        def tune(con):
            # Small row groups: a viewport query reads only the few whose min/max cover it.
            con.execute(f"CALL {LAKE}.set_option('parquet_row_group_size', {ANNOTATION_ROW_GROUP}, "
                        "table_name => 'annotations')")
            _set_mask_options(con, MASK_TABLE_OPTIONS)

        try:
            self._store.run_transaction(work, author=self.user, message="create project")
            self._store.run_transaction(tune, author=self.user, message="tune storage")
        except duckdb.Error as exc:
            if "already exists" not in str(exc).lower():
                raise CatalogDamagedError(f"cannot create the project's tables: {exc}") from exc

    def _tune_mask_tiles(self) -> None:
        """Give ``mask_tiles`` of a project created before its own DuckLake settings
        (2026-12-02) those settings, once: a project opened for writing that has them all
        writes nothing."""
        have = dict(self._store.fetchall(
            f"SELECT option_name, value FROM {LAKE}.options() WHERE scope = 'TABLE' AND scope_entry = ?",
            [f"main.{MASK_TABLE}"]))
        missing = {k: v for k, v in MASK_TABLE_OPTIONS.items() if have.get(k) != str(v)}
        if missing:
            self._store.run_transaction(lambda con: _set_mask_options(con, missing), author=self.user,
                                        message="tune mask tile storage")

    def _check_schema(self) -> None:
        try:
            rows = self._store.fetchall("SELECT value FROM project_info WHERE key = 'schema_version'")
        except duckdb.Error as exc:
            raise CatalogDamagedError(f"{self.location} is a DuckLake catalog but not an exact-lab project: {exc}") from exc
        if not rows:
            raise CatalogDamagedError(f"{self.location} has no schema version; it is not an exact-lab project")
        if int(rows[0][0]) > SCHEMA_VERSION:
            raise CatalogDamagedError(
                f"{self.location} was written by a newer exact-lab (schema {rows[0][0]} > {SCHEMA_VERSION})")

    # -- plumbing the mixins share -----------------------------------------------------------
    def _write(self, work, message, *, rows: int | None = None):
        """Run ``work(con)`` as one snapshot authored by the current user, retried on conflicts.
        ``rows``: how many rows it writes, when the caller knows (a small write runs on one thread)."""
        small = rows is not None and rows <= SMALL_TRANSACTION_ROWS
        return self._store.run_transaction(work, author=self.user, message=message, small=small)

    def on_change(self, callback) -> None:
        """Call ``callback({"image_ids", "uuids", "snapshot"})`` after each commit of this kernel."""
        with self._listeners_lock:
            self._listeners.append(callback)

    def off_change(self, callback) -> None:
        with self._listeners_lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def _notify(self, image_ids, uuids) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        if not listeners:
            return
        change = {
            "image_ids": None if image_ids is None else {int(i) for i in set(image_ids)},
            "uuids": None if uuids is None else [str(u) for u in uuids],
            "snapshot": self._store.current_snapshot(),
        }
        for callback in listeners:
            try:
                callback(change)
            except Exception:  # a broken listener must not break the edit
                log.exception("exact-lab: change listener failed")

    def flush(self) -> int:
        """Commit the buffered interactive edits now. Returns the number of rows written."""
        session = getattr(self, "session", None)
        return session.flush() if session is not None else 0

    # -- the rest of the public API ----------------------------------------------------------
    def sql(self, query: str, params=None) -> duckdb.DuckDBPyRelation:
        """A DuckDB relation over the result of a query on the project's tables (annotations geometry is WKB).

        The query runs at once; the relation holds its result, so it can be read from any thread
        and queried further (``.filter``, ``.df()``) without touching the project.
        """
        self.flush()
        # Where review rules hide annotations (blind sets, other teams' sets), the query runs on a
        # connection whose ``annotations`` is a view with the same predicate as annotations().
        restricted = getattr(self, "restricted_connection", None)
        con = restricted() if restricted is not None else None
        if con is None:
            return self._store.relation(query, params)
        with self._store.lock:
            relation = self._store.relation(query, params, con=con)
            # a query on the second connection kept the SQLite catalog locked for writers until the
            # main connection read the lake again (measured: a write then waited 120 s)
            self._store.con.execute("SELECT count(*) FROM project_info").fetchall()
            return relation

    def info(self) -> dict:
        """Returns a dict: location, mode (embedded / team), data_path, user, snapshot and counts."""
        counts = self._store.fetchall(
            "SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM image_sets), "
            "(SELECT count(*) FROM annotation_types), (SELECT count(*) FROM annotations WHERE NOT deleted), "
            "(SELECT count(*) FROM annotations WHERE deleted), (SELECT count(*) FROM versions), "
            "(SELECT count(*) FROM users)")[0]
        keys = ("images", "image_sets", "annotation_types", "annotations", "deleted_annotations", "versions", "users")
        return {
            "location": self.location,
            "mode": "team" if self._store.team else "embedded",
            "data_path": self._store.data_path,
            "user": self.user,
            "snapshot": self._store.current_snapshot(),
            **dict(zip(keys, (int(c) for c in counts))),
        }

    def maintain(self) -> None:
        """DuckLake housekeeping: move inlined rows to Parquet and merge small adjacent files.
        Snapshots are never expired, so versions and history stay readable."""
        self.flush()

        # Commits like any other: in this writer's turn, so other writers wait instead of
        # conflicting with them. Two of them: DuckLake refuses a transaction that both changes
        # data (the flush) and compacts ("can either make changes OR perform compaction").
        for call in ("ducklake_flush_inlined_data", "ducklake_merge_adjacent_files"):
            self._store.run_transaction(lambda con, call=call: con.execute(f"CALL {call}('{LAKE}')"),
                                        author=self.user, message="maintenance")

    def viewer(self, image=None, **kwargs):
        """Returns a SlideViewer widget on one of the project's images (``image``: an image_id or
        name); keyword arguments are the viewer's traits (``height``, ``tool``, ...)."""
        from .widgets import SlideViewer

        return SlideViewer(project=self, image=image, **kwargs)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<exact_lab.Project {self.location!r} user={self.user!r}>"


def _set_mask_options(con, options: dict) -> None:
    for option, value in options.items():
        literal = value if isinstance(value, int) else f"'{value}'"
        con.execute(f"CALL {LAKE}.set_option('{option}', {literal}, table_name => '{MASK_TABLE}')")


__all__ = ["Project", "open_project", "current_user", "ExactLabError", "ProjectLocationError", "pd"]
