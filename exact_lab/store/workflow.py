"""Per-user workflow state: verifications, media attached to annotations, screening progress."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import InvalidValueError, UnknownAnnotationError
from .rows import normalize_uuids
from .util import next_id, utcnow

MEDIA_KINDS = ("image", "audio", "video")


class WorkflowMixin:
    # -- verification -------------------------------------------------------------------------
    def verify(self, uuids, verified: bool = True, user: str | None = None) -> None:
        """Record one verdict per user and annotation (a later verdict replaces an earlier one).
        Returns None; ``proj.consensus`` and the review queue read the verdicts."""
        if isinstance(uuids, str):
            uuids = [uuids]
        uuids = list(normalize_uuids(list(uuids)))
        user = user or self.user
        self.flush()

        def work(con):
            self._require_annotations(con, uuids)
            self._check_writes([r[0] for r in con.execute(
                "SELECT DISTINCT image_id FROM annotations WHERE uuid IN (SELECT unnest(?::UUID[]))", [uuids]).fetchall()])
            con.execute(
                "DELETE FROM verifications WHERE username = ? AND annotation_uuid IN (SELECT unnest(?::UUID[]))",
                [user, uuids],
            )
            now = utcnow()
            con.executemany("INSERT INTO verifications VALUES (?::UUID, ?, ?, ?)",
                            [[u, user, bool(verified), now] for u in uuids])

        self._write(work, f"{user} {'verifies' if verified else 'rejects'} {len(uuids)}")
        self._notify(None, uuids)

    def verifications(self, image=None, user: str | None = None, version=None) -> pd.DataFrame:
        at = self._at(version)
        where, params = [], []
        if image is not None:
            where.append("a.image_id = ?")
            params.append(int(self._image_row(image)["image_id"]))
        if user is not None:
            where.append("v.username = ?")
            params.append(user)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return self._store.df(
            f"SELECT v.annotation_uuid::VARCHAR AS uuid, v.username, v.verified, v.verified_at, a.image_id "
            f"FROM verifications AS v {at} JOIN annotations AS a {at} ON a.uuid = v.annotation_uuid {clause} "
            "ORDER BY v.verified_at",
            params,
        )

    def _require_annotations(self, con, uuids) -> None:
        found = {r[0] for r in con.execute(
            "SELECT uuid::VARCHAR FROM annotations WHERE uuid IN (SELECT unnest(?::UUID[]))", [uuids]).fetchall()}
        missing = [u for u in uuids if u not in found]
        if missing:
            raise UnknownAnnotationError(f"no annotation {missing[0]} in this project")

    # -- media --------------------------------------------------------------------------------
    def add_media(self, uuid: str, path=None, *, data: bytes | None = None, name: str | None = None,
                  kind: str | None = None) -> int:
        """Attach audio, video or an image to an annotation: by path (kept as a reference) or bytes."""
        uuid = normalize_uuids([uuid])[0]
        if (path is None) == (data is None):
            raise InvalidValueError("give either path= or data=")
        if path is not None:
            path = Path(path).expanduser().absolute()
            if not path.is_file():
                raise InvalidValueError(f"{path} is not a file")
            name = name or path.name
        kind = kind or _guess_kind(name or "")
        if kind not in MEDIA_KINDS:
            raise InvalidValueError(f"media kind {kind!r}; expected one of {', '.join(MEDIA_KINDS)}")
        self.flush()

        def work(con):
            self._require_annotations(con, [uuid])
            media_id = next_id(con, "media_files", "media_id")
            con.execute("INSERT INTO media_files VALUES (?, ?::UUID, ?, ?, ?, ?, ?, ?)",
                        [media_id, uuid, kind, name, str(path) if path else None, data, self.user, utcnow()])
            return media_id

        return self._write(work, f"media for {uuid}")

    def media(self, uuid: str | None = None) -> pd.DataFrame:
        where, params = "", []
        if uuid is not None:
            where, params = "WHERE annotation_uuid = ?::UUID", [normalize_uuids([uuid])[0]]
        return self._store.df(
            "SELECT media_id, annotation_uuid::VARCHAR AS uuid, kind, name, path, data, added_by, added_at "
            f"FROM media_files {where} ORDER BY media_id", params)

    # -- screening ----------------------------------------------------------------------------
    def save_screening(self, image, *, tile_size=(1024, 1024), zoom: float = 1.0, overlap: float = 0.15,
                       grid=(0, 0), visited=(), current: int | None = None, user: str | None = None) -> None:
        image_id = int(self._image_row(image)["image_id"])
        user = user or self.user
        if not 0 <= overlap < 1:
            raise InvalidValueError("overlap is a fraction in [0, 1)")
        self._check_writes([image_id])

        def work(con):
            con.execute("DELETE FROM screening_states WHERE username = ? AND image_id = ?", [user, image_id])
            con.execute(
                "INSERT INTO screening_states VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [user, image_id, int(tile_size[0]), int(tile_size[1]), float(zoom), float(overlap),
                 int(grid[0]), int(grid[1]), json.dumps(sorted(int(v) for v in visited)), current, utcnow()],
            )

        self._write(work, f"screening of image {image_id} by {user}")

    def screening(self, image, user: str | None = None) -> dict | None:
        image_id = int(self._image_row(image)["image_id"])
        rows = self._store.records("SELECT * FROM screening_states WHERE username = ? AND image_id = ?",
                                   [user or self.user, image_id])
        if not rows:
            return None
        record = rows[0]
        record["visited"] = json.loads(record["visited"] or "[]")
        return record


def _guess_kind(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aac"):
        return "audio"
    if suffix in (".mp4", ".webm", ".mov", ".avi", ".mkv"):
        return "video"
    return "image"
