"""Projects of images to label: who finished which image ("save and next"), what comes next,
and each participant's progress over an image set."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..store.util import utcnow
from .tiles import decode_tile
from .tilestore import TABLE

DONE = "labelling_done"
PROGRESS_COLUMNS = ["user", "images", "done", "done_fraction", "painted_tiles", "labelled_fraction"]


class ProgressMixin:
    def mark_done(self, image, frame: int = 0, done: bool = True) -> None:
        """Mark the image (frame) labelled by the current user, or not (``done=False``)."""
        image_id = int(self._image_record(image)["image_id"])
        self.check_write_access([image_id])
        user = self.user

        def work(con):
            con.execute(f"DELETE FROM {DONE} WHERE username = ? AND image_id = ? AND frame = ?",
                        [user, image_id, int(frame)])
            if done:
                con.execute(f"INSERT INTO {DONE} VALUES (?, ?, ?, ?)", [user, image_id, int(frame), utcnow()])

        self.flush()  # the strokes first: "done" never lands before the labels it vouches for
        self._write(work, f"{'done' if done else 'not done'}: image {image_id}")

    def done_images(self, image_set=None, user: str | None = None) -> list[int]:
        """Ids of the images ``user`` (default: the current one) marked done, in ``image_set``."""
        ids = set(self.images(image_set=image_set)["image_id"].astype(int))
        rows = self._store.fetchall(f"SELECT DISTINCT image_id FROM {DONE} WHERE username = ?", [user or self.user])
        return sorted(int(i) for (i,) in rows if int(i) in ids)

    def next_undone(self, image, image_set=None) -> int | None:
        """The next image after ``image`` (in id order, wrapping round) of ``image_set`` (default:
        the image's own set) that the current user has not marked done; None when all are."""
        row = self._image_record(image)
        if image_set is None:
            frame = self.images()
            frame = frame[frame["image_set_id"] == row["image_set_id"]]
        else:
            frame = self.images(image_set=image_set)
        ids = [int(i) for i in frame["image_id"]]
        done = set(self.done_images(None))
        here = int(row["image_id"])
        ordered = [i for i in ids if i > here] + [i for i in ids if i < here]
        return next((i for i in ordered if i not in done), None)

    def labelling_progress(self, image_set=None, by_image: bool = False) -> pd.DataFrame:
        """Per participant (anyone who painted or finished an image of the set): images in the
        set, images done and their fraction, level-0 tiles they last painted, and the labelled
        fraction of the set's pixels in those tiles. ``by_image=True``: one row per user and
        image with ``done`` and ``labelled_fraction`` of that image (all painters together)."""
        self.flush()
        images = self.images(image_set=image_set)
        ids = [int(i) for i in images["image_id"]]
        pixels = dict(zip(ids, (images["width"] * images["height"]).astype(float)))
        with self._store.reading() as con:
            tiles = con.execute(
                f"SELECT image_id, editor, data FROM {TABLE} WHERE level = 0 AND image_id IN (SELECT unnest(?::BIGINT[]))",
                [ids]).fetchall()
            done = con.execute(
                f"SELECT DISTINCT username, image_id FROM {DONE} WHERE image_id IN (SELECT unnest(?::BIGINT[]))",
                [ids]).fetchall()
        labelled: dict[tuple[str, int], int] = {}
        n_tiles: dict[str, int] = {}
        for image_id, editor, data in tiles:
            n = int(np.count_nonzero(decode_tile(bytes(data))))
            labelled[(editor, int(image_id))] = labelled.get((editor, int(image_id)), 0) + n
            n_tiles[editor] = n_tiles.get(editor, 0) + 1
        done_by: dict[str, set] = {}
        for user, image_id in done:
            done_by.setdefault(user, set()).add(int(image_id))
        users = sorted(set(n_tiles) | set(done_by))
        if by_image:
            per_image = {}
            for (_, image_id), n in labelled.items():
                per_image[image_id] = per_image.get(image_id, 0) + n
            rows = [{"user": u, "image_id": i, "image": name, "done": i in done_by.get(u, set()),
                     "labelled_fraction": per_image.get(i, 0) / pixels[i]}
                    for u in users for i, name in zip(ids, images["name"])]
            return pd.DataFrame(rows, columns=["user", "image_id", "image", "done", "labelled_fraction"])
        total = sum(pixels.values()) or 1.0
        rows = [{"user": u, "images": len(ids), "done": len(done_by.get(u, ())),
                 "done_fraction": len(done_by.get(u, ())) / max(len(ids), 1),
                 "painted_tiles": n_tiles.get(u, 0),
                 "labelled_fraction": sum(n for (e, _), n in labelled.items() if e == u) / total}
                for u in users]
        return pd.DataFrame(rows, columns=PROGRESS_COLUMNS)
