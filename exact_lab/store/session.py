"""The buffered edit session: interactive edits queue in the kernel and are committed in small
batches, about once a second and on ``flush()``. A batch that conflicts with another writer is
retried; nothing queued is dropped."""

from __future__ import annotations

import atexit
import logging
import threading
import weakref

import numpy as np
import pandas as pd

from ..errors import CommitFailedError, InvalidValueError, UnknownAnnotationError
from .annotations import EDITABLE, apply_changes, current_rows, insert_table, set_flag
from .geometry import to_geometry_array, validate
from .rows import as_frame, build_annotation_table, normalize_uuids, uuid_strings

log = logging.getLogger(__name__)


class EditSession:
    """Queue of add / update / delete deltas by uuid, committed in batches."""

    def __init__(self, project, interval: float = 1.0):
        self._project = weakref.proxy(project)
        self.interval = interval
        self._lock = threading.RLock()   # guards the queue
        self._commit_lock = threading.Lock()  # one batch at a time
        self._adds: list[pd.DataFrame] = []
        self._changes: dict[str, dict] = {}
        self._flags: dict[str, dict] = {}
        self._timer: threading.Timer | None = None
        self.last_error: Exception | None = None
        self.commits = 0
        atexit.register(self._flush_quietly)

    # -- queueing -----------------------------------------------------------------------------
    def add(self, rows) -> list[str]:
        """Queue new annotations; returns their uuids (minted now, so the caller can refer to them).

        Rows are validated at once, so a bad row raises here and never reaches the queue.
        """
        frame = as_frame(rows)
        project = self._project
        with project._store.lock:
            table = build_annotation_table(project, project._store.con, frame, user=project.user)
        frame = frame.copy()
        frame["uuid"] = uuid_strings(table.column("uuid")).to_pylist()
        with self._lock:
            self._adds.append(frame)
            self._schedule()
        return list(frame["uuid"])

    def update(self, uuid: str, **fields) -> None:
        """Queue a change of one annotation. The new state is checked now (the uuid must exist,
        the geometry must fit the annotation's type), so a bad edit raises here instead of
        failing every later commit."""
        unknown = set(fields) - set(EDITABLE)
        if unknown:
            raise InvalidValueError(f"cannot change {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}")
        uuid = normalize_uuids([uuid])[0]
        if fields.get("geometry") is not None or fields.get("type") is not None or fields.get("type_id") is not None:
            self._check_update(uuid, fields)
        with self._lock:
            for frame in self._adds:  # still queued: change the pending row itself
                hit = frame["uuid"] == uuid
                if hit.any():
                    for key, value in fields.items():
                        key = "type" if key == "type_id" and "type" in frame.columns else key
                        if key not in frame.columns:
                            frame[key] = None
                        frame[key] = frame[key].astype(object)
                        frame.loc[hit, key] = [value] * int(hit.sum())
                    self._schedule()
                    return
            self._changes.setdefault(uuid, {}).update(fields)
            self._schedule()

    def delete(self, uuids) -> None:
        self._flag(uuids, True)

    def undelete(self, uuids) -> None:
        self._flag(uuids, False)

    def _flag(self, uuids, value: bool) -> None:
        if isinstance(uuids, str):
            uuids = [uuids]
        with self._lock:
            for uuid in normalize_uuids(list(uuids)):
                self._changes.setdefault(uuid, {})["deleted"] = value
            self._schedule()

    def _check_update(self, uuid: str, fields: dict) -> None:
        project = self._project
        new_type = fields.get("type_id", fields.get("type"))
        with self._lock:
            queued = next((f for f in self._adds if (f["uuid"] == uuid).any()), None)
        if queued is not None:
            row = queued[queued["uuid"] == uuid].iloc[0]
            queued_type = row["type_id"] if "type_id" in queued.columns else row["type"]

        def read(con):  # one read, retried like a commit when other writers hold the catalog
            if queued is None:
                stored = current_rows(con, [uuid])
                if stored.empty:
                    raise UnknownAnnotationError(f"no annotation {uuid} in this project")
                current = int(stored["type_id"].iat[0])
            else:
                current = queued_type
            key = current if new_type is None else new_type
            type_id = project._type_ids([key], con=con)[key]
            return con.execute("SELECT vector_type FROM annotation_types WHERE type_id = ?", [type_id]).fetchone()[0]

        vector_type = project._store.run_transaction(read)
        if fields.get("geometry") is not None:
            geoms = to_geometry_array(np.array([fields["geometry"]], dtype=object))
            validate(geoms, np.array([vector_type], dtype=object))

    def is_pending(self, uuid: str) -> bool:
        """Whether an edit of this annotation is queued and not committed yet."""
        with self._lock:
            return uuid in self._changes or any((f["uuid"] == uuid).any() for f in self._adds)

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(len(f) for f in self._adds) + len(self._changes)

    # -- committing ---------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._timer is None:
            self._timer = threading.Timer(self.interval, self._on_timer)
            self._timer.daemon = True
            self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.flush()
        except ReferenceError:  # the project is gone
            return
        except Exception as exc:  # keep the queue; try again later
            self.last_error = exc
            log.warning("exact-lab: commit of queued edits failed, will retry: %s", exc)
            with self._lock:
                self._schedule()

    def flush(self) -> int:
        """Commit everything queued now, in one transaction. Returns the number of rows written."""
        with self._commit_lock:
            with self._lock:
                adds, changes = self._adds, self._changes
                self._adds, self._changes = [], {}
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
            if not adds and not changes:
                return 0
            project = self._project
            try:
                written = self._commit(project, adds, changes)
            except BaseException as exc:
                with self._lock:  # put everything back in front of newer edits
                    self._adds = adds + self._adds
                    for uuid, fields in changes.items():
                        newer = self._changes.get(uuid, {})
                        self._changes[uuid] = {**fields, **newer}
                self.last_error = exc
                raise
            self.last_error = None
            self.commits += 1
            return written

    @staticmethod
    def _commit(project, adds, changes) -> int:
        user = project.user
        added = pd.concat(adds, ignore_index=True) if adds else None
        change_frame = None
        if changes:
            change_frame = pd.DataFrame([{"uuid": u, **f} for u, f in changes.items()])

        def work(con):
            if added is not None:
                table = build_annotation_table(project, con, added, user=user)
                insert_table(con, table)
            if change_frame is not None:
                only_flags = change_frame.drop(columns=["uuid"]).columns.tolist() == ["deleted"]
                if only_flags:
                    for value in (True, False):
                        rows = change_frame[change_frame["deleted"] == value]["uuid"]
                        set_flag(con, rows, "deleted", value, user=user)
                else:
                    apply_changes(project, con, change_frame, user=user)

        project._write(work, "interactive edits")
        image_ids = set(added["image_id"]) if added is not None and "image_id" in added.columns else None
        uuids = (list(added["uuid"]) if added is not None else []) + list(changes)
        project._notify(image_ids, uuids)
        return len(uuids)

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except (ReferenceError, CommitFailedError, Exception) as exc:  # interpreter is exiting
            log.error("exact-lab: %d queued edits could not be committed at exit: %s", self.pending, exc)
