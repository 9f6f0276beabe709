"""The buffered edit session: interactive edits queue in the kernel and are committed in small
batches, about once a second and on ``flush()``. A batch that conflicts with another writer is
retried; nothing queued is dropped."""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from typing import Protocol

import numpy as np
import pandas as pd

from ..errors import CommitFailedError, EditRefusedError, ExactLabError, InvalidValueError, UnknownAnnotationError
from . import validate
from .annotations import EDITABLE, apply_changes, build_known_table, current_rows, insert_table, set_flag
from .geometry import to_geometry_array
from .rows import Known, as_frame, build_annotation_table, normalize_uuids, uuid_strings

log = logging.getLogger(__name__)


class Participant(Protocol):
    """Another kind of queued edit committed in the session's batches (mask paint, say):
    ``take()`` hands over what is queued (falsy when nothing), ``write(con, batch)`` writes it
    inside the batch's transaction (it may run again after a conflict), ``put_back(batch)``
    requeues it when the commit failed, ``committed(batch)`` is told after the commit."""

    def take(self): ...
    def write(self, con, batch) -> int: ...
    def put_back(self, batch) -> None: ...
    def committed(self, batch) -> None: ...


# The first edit after a quiet spell is committed this soon instead of a whole interval later:
# alice's box reached bob's viewer 3.2 s after she drew it, a second of which was this wait.
FIRST_COMMIT_DELAY = 0.2
DEFAULT_INTERVAL = 1.0

class EditSession:
    """Queue of add / update / delete deltas by uuid, committed in batches."""

    def __init__(self, project, interval: float = DEFAULT_INTERVAL):
        self._project = weakref.proxy(project)
        self.interval = interval
        self._lock = threading.RLock()   # guards the queue
        # one batch at a time; re-entrant because a change listener told of a commit (a watch
        # outside a kernel runs at once) may read annotations(), which flushes: nothing is queued
        # then, and a plain Lock would wait for itself
        self._commit_lock = threading.RLock()
        self._adds: list[pd.DataFrame] = []
        self._changes: dict[str, dict] = {}
        self._flags: dict[str, dict] = {}
        self._timer: threading.Timer | None = None
        self._participants: list[Participant] = []
        self.last_error: Exception | None = None
        self.refused: list[tuple[str, Exception]] = []  # (what, why) of edits refused at commit
        self.commits = 0
        self._last_commit = -float("inf")  # time.monotonic() the last batch began (see _schedule)
        self._inflight = 0  # edits taken from the queue by the flush in progress
        atexit.register(self._flush_quietly)

    @property
    def interval(self) -> float:
        """At most one commit per interval while edits keep coming. ``first_delay``, the wait of
        the first edit after a quiet spell, is 0.2 s (or the interval, if shorter); an interval
        longer than the default holds the first edit back as long (callers that batch more)."""
        return self._interval

    @interval.setter
    def interval(self, value: float) -> None:
        self._interval = float(value)
        self.first_delay = self._interval if value > DEFAULT_INTERVAL else min(self._interval, FIRST_COMMIT_DELAY)

    # -- queueing -----------------------------------------------------------------------------
    def add(self, rows) -> list[str]:
        """Queue new annotations; returns their uuids (minted now, so the caller can refer to them).

        Rows are validated at once, so a bad row raises here and never reaches the queue.
        """
        frame = as_frame(rows)
        if frame.empty:
            return []
        project = self._project
        known = Known.of(project._lookups())
        with project._store.reading() as con:
            table = build_annotation_table(con, frame, user=project.user, known=known)
        project._check_writes(np.unique(table.column("image_id").to_numpy()))  # refused when queued
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
        checked = validate.changes(pd.DataFrame([{"uuid": uuid, **fields}]))
        fields = {k: v for k, v in checked.iloc[0].items() if k != "uuid"}
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

    def _queued_add(self, uuid: str):
        with self._lock:
            return next((f for f in self._adds if (f["uuid"] == uuid).any()), None)

    def _check_update(self, uuid: str, fields: dict) -> None:
        project = self._project
        new_type = fields.get("type_id", fields.get("type"))
        queued = self._queued_add(uuid)
        if queued is None:
            # a flush in progress has taken the row out of the queue and not stored it yet (seen in
            # test_concurrency: "no annotation ..." for a row just added): wait for that commit
            with self._commit_lock:
                queued = self._queued_add(uuid)
        if queued is not None:
            row = queued[queued["uuid"] == uuid].iloc[0]
            queued_type = row["type_id"] if "type_id" in queued.columns else row["type"]

        needs_type = fields.get("geometry") is not None or new_type is not None
        if queued is not None and not needs_type:
            return

        def read(con):  # one read, retried like a commit when other writers hold the catalog
            if queued is None:
                stored = current_rows(con, [uuid])
                if stored.empty:
                    raise UnknownAnnotationError(f"no annotation {uuid} in this project")
                current = int(stored["type_id"].iat[0])
                project._check_writes([int(stored["image_id"].iat[0])])
            else:
                current = queued_type
            if not needs_type:
                return None
            key = current if new_type is None else new_type
            type_id = project._type_ids([key], con=con)[key]
            vector_types = project._lookups(con).vector_types
            if type_id in vector_types:
                return vector_types[type_id]
            return con.execute("SELECT vector_type FROM annotation_types WHERE type_id = ?", [type_id]).fetchone()[0]

        vector_type = project._store.run_transaction(read, turn=False)
        if fields.get("geometry") is not None:
            geoms = to_geometry_array(np.array([fields["geometry"]], dtype=object))
            validate.check_geometries(geoms, np.array([vector_type], dtype=object))

    def is_pending(self, uuid: str) -> bool:
        """Whether an edit of this annotation is queued and not committed yet."""
        with self._lock:
            return uuid in self._changes or any((f["uuid"] == uuid).any() for f in self._adds)

    @property
    def pending(self) -> int:
        with self._lock:
            # edits of a batch being committed count until it is stored: pending == 0 means stored
            return sum(len(f) for f in self._adds) + len(self._changes) + self._inflight

    def _stored(self, count: int) -> None:
        with self._lock:
            self._inflight = max(0, self._inflight - count)

    def add_participant(self, participant: Participant) -> None:
        """Commit ``participant``'s queued edits in this session's batches, in the same snapshot
        as the annotation edits queued with them."""
        with self._lock:
            if participant not in self._participants:
                self._participants.append(participant)

    def request_commit(self) -> None:
        """Ask for a batch soon (a participant queued something)."""
        with self._lock:
            self._schedule()

    # -- committing ---------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._timer is None:
            # an edit after a quiet spell goes out soon (others' viewers show it within ~1 s, not
            # 1 s later than that); edits of a burst still share a commit about once an interval
            since = time.monotonic() - self._last_commit
            delay = min(self.interval, max(self.first_delay, self.interval - since))
            self._timer = threading.Timer(delay, self._on_timer)
            self._timer.daemon = True
            self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.flush()
        except ReferenceError:  # the project is gone
            return
        except EditRefusedError:  # logged and dropped; the rest is committed
            return
        except Exception as exc:  # keep the queue; try again later
            self.last_error = exc
            log.warning("exact-lab: commit of queued edits failed, will retry: %s", exc)
            with self._lock:
                self._schedule()

    def flush(self) -> int:
        """Commit everything queued now, in one transaction. Returns the number of rows written.

        When the store refuses part of the batch (an annotation deleted for good by a restore, a
        uuid another writer took), the batch is split until each refused edit stands alone: the
        others are committed, the refused ones leave the queue, are listed in ``refused`` and
        raised as one EditRefusedError. A conflict that outlasts the retries keeps everything queued.
        """
        with self._commit_lock:
            with self._lock:
                adds, changes = self._adds, self._changes
                self._adds, self._changes = [], {}
                extra = [(p, p.take()) for p in self._participants]
                extra = [(p, batch) for p, batch in extra if batch]
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
            if not adds and not changes and not extra:
                return 0
            self._inflight = sum(len(f) for f in adds) + len(changes)
            # from the batch's start: edits queued while a slow commit runs wait for the interval
            # instead of going out 0.2 s later (6 batches for 22 quick edits under load otherwise)
            self._last_commit = time.monotonic()
            try:
                return self._flush_taken(adds, changes, extra)
            finally:
                self._inflight = 0

    def _flush_taken(self, adds, changes, extra) -> int:
        """Commit a batch flush() took from the queue (under its commit lock)."""
        project = self._project
        items = [("add", frame) for frame in adds] + [("change", (u, f)) for u, f in changes.items()]
        refused: list[tuple[str, Exception]] = []
        participant_done: dict[int, bool] = {}
        try:
            written = self._commit_isolating(project, items, refused, extra, participant_done)
        except BaseException as exc:
            for participant, batch in extra:
                if participant_done.get(id(participant)):
                    participant.committed(batch)
                else:
                    participant.put_back(batch)
            with self._lock:  # put back what was not committed, in front of newer edits
                left = [item for item in items if not item[0].startswith("done")]
                self._adds = [f for kind, f in left if kind == "add"] + self._adds
                for kind, value in left:
                    if kind == "change":
                        uuid, fields = value
                        self._changes[uuid] = {**fields, **self._changes.get(uuid, {})}
            self.last_error = exc
            raise
        self.commits += 1
        for participant, batch in extra:
            participant.committed(batch)
        if refused:
            self.refused.extend(refused)
            self.last_error = EditRefusedError(
                f"{len(refused)} queued edit(s) refused, the others committed: "
                + "; ".join(f"{what}: {why}" for what, why in refused))
            raise self.last_error
        self.last_error = None
        return written

    @classmethod
    def _commit_isolating(cls, project, items: list, refused: list, extra=(), done=None) -> int:
        """Commit ``items`` (and the participants' ``extra`` batches) in one batch; if the store
        refuses it, commit the extra batches alone, then halve the items until the refused edits
        stand alone (a few more commits, only when something is wrong). Committed items are marked
        done in place, and committed participants in ``done``, so a conflict that gives up puts
        back only the rest."""
        pending = [i for i, item in enumerate(items) if not item[0].startswith("done")]
        if not pending and not extra:
            return 0
        adds = [items[i][1] for i in pending if items[i][0] == "add"]
        changes = dict(items[i][1] for i in pending if items[i][0] == "change")
        try:
            written = cls._commit(project, adds, changes, extra)
        except CommitFailedError:
            raise
        except ExactLabError as exc:
            if extra:  # the participants' batches were checked when queued: keep them out of the hunt
                written = cls._commit(project, [], {}, extra) if pending else None
                if written is None:
                    raise
                for participant, _ in extra:
                    done[id(participant)] = True
                return written + cls._commit_isolating(project, items, refused)
            if len(pending) == 1:
                kind, value = items[pending[0]]
                what = (f"add of {', '.join(list(value['uuid'])[:3])}" if kind == "add"
                        else f"update of {value[0]}")
                refused.append((what, exc))
                log.error("exact-lab: queued edit refused (%s): %s", what, exc)
                items[pending[0]] = ("done-refused", value)
                return 0
            half = len(pending) // 2
            first = [items[i] for i in pending[:half]]
            rest = [items[i] for i in pending[half:]]
            written = cls._commit_isolating(project, first, refused) + cls._commit_isolating(project, rest, refused)
            for i, item in zip(pending, first + rest):
                items[i] = item
            return written
        for i in pending:
            items[i] = ("done", items[i][1])
        for participant, _ in extra:
            done[id(participant)] = True
        return written

    @staticmethod
    def _commit(project, adds, changes, extra=()) -> int:
        user = project.user
        added = pd.concat(adds, ignore_index=True) if adds else None
        change_frame = None
        if changes:
            change_frame = pd.DataFrame([{"uuid": u, **f} for u, f in changes.items()])

        def work(con):
            if added is not None:
                table = build_known_table(project, con, added, user=user)
                insert_table(con, table)
            if change_frame is not None:
                only_flags = change_frame.drop(columns=["uuid"]).columns.tolist() == ["deleted"]
                if only_flags:
                    for value in (True, False):
                        rows = change_frame[change_frame["deleted"] == value]["uuid"]
                        set_flag(project, con, rows, "deleted", value, user=user)
                else:
                    apply_changes(project, con, change_frame, user=user)
            return sum(participant.write(con, batch) for participant, batch in extra)

        # the participants' batches (mask tiles) have no row count here: those commits keep every thread
        rows = None if extra else (len(added) if added is not None else 0) + len(changes)
        written_extra = project._write(work, "interactive edits", rows=rows)
        if added is None and not changes:
            return written_extra
        image_ids = set(added["image_id"]) if added is not None and "image_id" in added.columns else None
        uuids = (list(added["uuid"]) if added is not None else []) + list(changes)
        session = getattr(project, "session", None)
        if session is not None:  # stored now: listeners of this commit see its edits as no longer pending
            session._stored(len(uuids))
        project._notify(image_ids, uuids)
        return len(uuids) + written_extra

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except (ReferenceError, CommitFailedError, Exception) as exc:  # interpreter is exiting
            log.error("exact-lab: %d queued edits could not be committed at exit: %s", self.pending, exc)
