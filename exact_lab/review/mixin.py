"""The review room's part of the Project API (DESIGN §8): agreement between annotators, the
review queue and consensus."""

from __future__ import annotations

import pandas as pd

from ..errors import InvalidValueError, PermissionDeniedError
from ..store.util import utcnow
from .agreement import agreement_table, disagreement_rows, label_table
from .consensus import consensus_table
from .objects import check_types, needs_geometry, read_objects
from .plots import plot_agreement
from .queue import review_queue_table
from .screening import Screening, progress_table, start
from .visibility import check_access, check_write, restricted_cursor, rules, visible_term


class ReviewMixin:
    # -- agreement between annotators -------------------------------------------------------
    def agreement(self, image_set=None, users=None, types=None, iou: float = 0.5, radius: float | None = None) -> pd.DataFrame:
        """Detection agreement for every pair of users and every type: one-to-one optimal matching
        (IoU >= ``iou`` for boxes, ellipses and polygons; points within ``radius`` pixels), with
        tp, fp, fn, precision, recall, F1 and the mean IoU (or distance) of the matches. The first
        user of a pair is the reference. Point types are left out unless ``radius`` is given. Returns a DataFrame."""
        known = self.annotation_types()  # read once: four reads of it were 0.45 s of a 2 s call
        check_types(self, types, radius, known)
        objects = read_objects(self, image_set=image_set, users=users, types=types,
                               geometry=needs_geometry(self, types, known), known=known)
        return agreement_table(objects, users, iou=iou, radius=radius)

    def label_agreement(self, image_set=None, users=None, iou: float = 0.5, radius: float | None = None) -> pd.DataFrame:
        """Cohen's kappa per pair, Fleiss' kappa and Krippendorff's alpha over all users, for image
        labels (``global`` types) and for the classes of matched objects; one row per statistic. Returns a DataFrame."""
        objects = read_objects(self, image_set=image_set, users=users, geometry=needs_geometry(self, None))
        return label_table(objects, users, iou=iou, radius=radius)

    def disagreements(self, image_set=None, users=None, types=None, iou: float = 0.5,
                      radius: float | None = None) -> pd.DataFrame:
        """Objects only one user of a pair drew, and objects both drew with different types, with
        their geometry: ``viewer.add_layer(proj.disagreements(), "disagreements")`` shows them."""
        check_types(self, types, radius)
        objects = read_objects(self, image_set=image_set, users=users, types=types, geometry=True)
        return disagreement_rows(objects, users, iou=iou, radius=radius)

    def plot_agreement(self, table: pd.DataFrame | None = None, metric: str = "f1", ax=None, **agreement):
        """A bar chart of an agreement table (computed with ``agreement(**agreement)`` when not
        given); returns the matplotlib Axes."""
        return plot_agreement(self.agreement(**agreement) if table is None else table, metric=metric, ax=ax)

    # -- screening --------------------------------------------------------------------------
    def start_screening(self, image, tile_size=None, zoom: float | None = None, overlap: float = 0.15,
                        skip_background: bool = True, user: str | None = None) -> Screening:
        """Make (or resume) ``user``'s screening of ``image``: a grid of tiles of ``tile_size``
        level-0 pixels (default: what 1024 screen pixels show at ``zoom``, default 1.0), overlapping
        by ``overlap``; with ``skip_background`` tiles without tissue (Otsu on a thumbnail) are left
        out. Resumes the stored screening when its tile size and overlap are the same.
        ``viewer.screening = proj.start_screening(image)`` drives it with w a s d / i j k l. Returns the ``Screening``."""
        return start(self, image, tile_size=tile_size, zoom=zoom, overlap=overlap,
                     skip_background=skip_background, user=user)

    def screening_progress(self, image_set=None, user: str | None = None) -> pd.DataFrame:
        """One row per user and image screened: image, user, tiles, screened, fraction, current
        tile, last move. Returns a DataFrame."""
        return progress_table(self, image_set=image_set, user=user)

    # -- verification -----------------------------------------------------------------------
    def review_queue(self, image_set=None, user: str | None = None, types=None, order_by: str = "score",
                     only_unverified: bool = True) -> pd.DataFrame:
        """The annotations (model proposals included) that still need ``user``'s verdict, one row
        each, ordered by ``order_by``; ``viewer.review(queue)`` steps through it. Returns a DataFrame."""
        return review_queue_table(self, image_set=image_set, user=user, types=types, order_by=order_by,
                                  only_unverified=only_unverified)

    def consensus(self, image_set=None, min_verifications: int | None = None) -> pd.DataFrame:
        """Per annotation: verified and rejected counts, the number required (``min_verifications``,
        else the set's in second-opinion mode, else 1) and whether it is accepted. Returns a DataFrame."""
        return consensus_table(self, image_set=image_set, min_verifications=min_verifications)

    # -- collaboration modes and who sees what -----------------------------------------------
    def restrict_reads(self, query, image_ids=(), image_set_id=None):
        """Called by ``annotation_query`` for every read: refuses reads of another team's set,
        and adds the blind-mode predicate (review/visibility.py)."""
        found = rules(self)
        check_access(found, image_ids, image_set_id)
        term = visible_term(found)
        if term is not None:
            query.where(term[0], *term[1])
        return query

    def check_write_access(self, image_ids=(), image_set=None) -> None:
        """Returns None when this user may write to these images (and set); else raises
        PermissionDeniedError naming the user, the image set and its team. Every write path of the
        store (annotations, verdicts, screening, masks) calls it in team mode."""
        set_id = None if image_set is None else self._image_set_id(image_set)
        check_write(rules(self), image_ids, set_id)

    def restricted_connection(self):
        """A connection for ``sql()`` whose ``annotations`` hides what this user may not see, or
        None when nothing is hidden."""
        found = rules(self)
        if visible_term(found) is None:
            return None
        cached = getattr(self, "_restricted", None)
        if cached is not None and cached[0] == found:
            return cached[1]
        cursor = restricted_cursor(self, found)
        self._restricted = (found, cursor)
        return cursor

    def _require_set_admin(self, image_set) -> int:
        set_id = self._image_set_id(image_set)
        row = self._store.fetchall(
            "SELECT s.team_id, (SELECT max(role) FROM memberships m WHERE m.team_id = s.team_id AND m.username = ?) "
            "FROM image_sets s WHERE s.image_set_id = ?", [self.user, set_id])[0]
        if row[0] is not None and row[1] != "admin":
            raise PermissionDeniedError(f"{self.user} is not an admin of the team of image set {image_set!r}")
        return set_id

    def reveal(self, image_set) -> None:
        """End the blind phase of a set: everyone sees everyone's annotations (admins only).
        Returns None; a non-admin gets PermissionDeniedError."""
        set_id = self._require_set_admin(image_set)

        def work(con):
            con.execute("DELETE FROM image_set_reveals WHERE image_set_id = ?", [set_id])
            con.execute("INSERT INTO image_set_reveals VALUES (?, ?, ?)", [set_id, self.user, utcnow()])

        self._write(work, f"{self.user} reveals image set {image_set}")

    def share_guides(self, uuids) -> None:
        """Mark annotations as guides every annotator of a blind set sees (admins only)."""
        uuids = [uuids] if isinstance(uuids, str) else [str(u) for u in uuids]
        rows = self.annotations(uuids=uuids)
        if len(rows) != len(set(uuids)):
            missing = sorted(set(uuids) - set(rows["uuid"]))
            raise InvalidValueError(f"no annotation {missing[0]} visible to {self.user}")
        images = self.images(ids=sorted(set(rows["image_id"].astype(int))))
        for set_id in set(images["image_set_id"].dropna().astype(int)):
            self._require_set_admin(int(set_id))

        def work(con):
            now = utcnow()
            con.executemany("INSERT INTO shared_guides VALUES (?::UUID, ?, ?)", [[u, self.user, now] for u in uuids])

        self._write(work, f"{self.user} shares {len(uuids)} guide(s)")
