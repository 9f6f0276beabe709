"""The review queue: what a user still has to give a verdict on, in a useful order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from ..store.util import sql_text
from .objects import objects_query, with_names

ORDERS = ("score", "uncertainty", "created", "image", "position")
QUEUE_COLUMNS = ["uuid", "image_id", "image", "frame", "type", "creator", "source", "score", "xmin", "ymin", "xmax",
                 "ymax", "verified", "rejected", "required", "my_verdict", "mode"]
# uuid last in every order: ties come back the same way each time
ORDER_BY = {
    "score": "q.score DESC NULLS LAST, q.image_id, q.ymin, q.uuid",
    "uncertainty": "abs(q.score - 0.5) NULLS LAST, q.image_id, q.uuid",
    "created": "q.created_at, q.uuid",
    "image": "q.image_id, q.ymin, q.xmin, q.uuid",
    "position": "q.image_id, q.ymin, q.xmin, q.uuid",
}
OBJECT_COLUMNS = ("a.uuid::VARCHAR AS uuid, a.image_id, a.frame, a.type_id, a.creator, a.min_x AS xmin, "
                  "a.min_y AS ymin, a.max_x AS xmax, a.max_y AS ymax, a.created_at, a.score, a.source")


def review_queue_table(project, image_set=None, user: str | None = None, types=None, order_by: str = "score",
                       only_unverified: bool = True) -> pd.DataFrame:
    """order_by: "score" (highest first), "uncertainty" (score nearest 0.5 first: a model's
    hardest cases), "created" (oldest first), "image" or "position" (image, then top to bottom).
    ``only_unverified`` leaves out what ``user`` judged already and, in second-opinion sets, what
    is accepted already and the user's own annotations (a second opinion is someone else's).

    One query: the verdict counts, the set's mode, the filter and the order are DuckDB's, over the
    store's annotation query (so a collaboration mode's visibility applies); reading every object
    and its verdicts into pandas to merge, filter and sort there took 0.95 s at 100,000 proposals,
    slower than a user's own annotations() + isin + sort_values (benchmarks/agreement.py)."""
    if order_by not in ORDERS:
        raise InvalidValueError(f"order_by {order_by!r}; expected one of {', '.join(ORDERS)}")
    user = user or project.user
    known = project.annotation_types()
    objects, params = objects_query(project, image_set, types, known).select(OBJECT_COLUMNS)
    # coalesce: a set without a mode (NULL) must not make the whole condition NULL (row dropped)
    # the user as a literal, not a parameter (store/util.sql_text: 3x faster over the lake)
    me = sql_text(user)
    unverified = (f"WHERE q.my_verdict IS NULL AND NOT coalesce(q.mode = 'second_opinion' "
                  f"AND (q.verified >= q.required OR q.creator IS NOT DISTINCT FROM {me}), false)") if only_unverified else ""
    sql = f"""
        WITH o AS ({objects}),
        votes AS (
            SELECT annotation_uuid::VARCHAR AS uuid, count(*) FILTER (WHERE verified) AS verified,
                   count(*) FILTER (WHERE NOT verified) AS rejected,
                   bool_or(verified) FILTER (WHERE username = {me}) AS my_verdict
            FROM verifications GROUP BY ALL),
        q AS (
            SELECT o.*, coalesce(v.verified, 0) AS verified, coalesce(v.rejected, 0) AS rejected, v.my_verdict,
                   s.mode, CASE WHEN s.mode = 'second_opinion' THEN coalesce(s.required_verifications, 1)
                                ELSE 1 END AS required
            FROM o JOIN annotation_types t ON t.type_id = o.type_id AND t.vector_type <> 'global'
            LEFT JOIN votes v USING (uuid)
            LEFT JOIN images i ON i.image_id = o.image_id
            LEFT JOIN image_sets s ON s.image_set_id = i.image_set_id)
        SELECT * FROM q {unverified} ORDER BY {ORDER_BY[order_by]}"""
    frame = project.sql(sql, params=params or None).to_arrow_table().to_pandas()
    frame = with_names(project, frame, known)
    frame["frame"] = frame["frame"].fillna(0).astype(np.int64)
    for name in ("verified", "rejected", "required"):
        frame[name] = frame[name].astype("int64")
    frame["my_verdict"] = frame["my_verdict"].astype(object).where(frame["my_verdict"].notna(), None)
    return frame[QUEUE_COLUMNS].reset_index(drop=True)
