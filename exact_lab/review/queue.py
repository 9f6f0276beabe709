"""The review queue: what a user still has to give a verdict on, in a useful order."""

from __future__ import annotations

import pandas as pd

from ..errors import InvalidValueError
from .verdicts import required, with_verdicts

ORDERS = ("score", "uncertainty", "created", "image", "position")
QUEUE_COLUMNS = ["uuid", "image_id", "image", "frame", "type", "creator", "source", "score", "xmin", "ymin", "xmax",
                 "ymax", "verified", "rejected", "required", "my_verdict", "mode"]


def review_queue_table(project, image_set=None, user: str | None = None, types=None, order_by: str = "score",
                       only_unverified: bool = True) -> pd.DataFrame:
    """order_by: "score" (highest first), "uncertainty" (score nearest 0.5 first: a model's
    hardest cases), "created" (oldest first), "image" or "position" (image, then top to bottom).
    ``only_unverified`` leaves out what ``user`` judged already and, in second-opinion sets, what
    is accepted already and the user's own annotations (a second opinion is someone else's)."""
    if order_by not in ORDERS:
        raise InvalidValueError(f"order_by {order_by!r}; expected one of {', '.join(ORDERS)}")
    user = user or project.user
    frame = with_verdicts(project, image_set=image_set, types=types, user=user)
    frame = frame[frame["vector_type"] != "global"] if "vector_type" in frame else frame
    frame["required"] = required(frame, None)
    if only_unverified:
        keep = frame["my_verdict"].isna()
        second = frame["mode"] == "second_opinion"
        keep &= ~(second & ((frame["verified"] >= frame["required"]) | (frame["creator"] == user)))
        frame = frame[keep]
    if order_by == "score":
        frame = frame.sort_values(["score", "image_id", "ymin"], ascending=[False, True, True], na_position="last")
    elif order_by == "uncertainty":
        frame = frame.assign(_u=(frame["score"] - 0.5).abs()).sort_values(["_u", "image_id"], na_position="last")
    elif order_by == "created":
        frame = frame.sort_values(["created_at", "uuid"])
    else:
        frame = frame.sort_values(["image_id", "ymin", "xmin"])
    return frame[QUEUE_COLUMNS].reset_index(drop=True)
