"""Consensus: per annotation how many users verified and rejected it, and whether it is accepted.

An annotation is accepted when at least the required number of distinct users verified it and
more users verified than rejected it (a later verdict of a user replaces the earlier one).
"""

from __future__ import annotations

import pandas as pd

from ..errors import InvalidValueError
from .verdicts import required, with_verdicts

CONSENSUS_COLUMNS = ["uuid", "image_id", "image", "type", "creator", "source", "score", "verified", "rejected",
                     "required", "accepted", "mode"]


def consensus_table(project, image_set=None, min_verifications: int | None = None) -> pd.DataFrame:
    if min_verifications is not None and (int(min_verifications) != min_verifications or min_verifications < 0):
        raise InvalidValueError(f"min_verifications is a count >= 0, got {min_verifications!r}")
    frame = with_verdicts(project, image_set=image_set)
    frame["required"] = required(frame, min_verifications)
    frame["accepted"] = (frame["verified"] >= frame["required"]) & (frame["verified"] > frame["rejected"])
    if min_verifications == 0:  # nothing asked: everything counts, unless more users rejected it
        frame["accepted"] = frame["verified"] >= frame["rejected"]
    return frame[CONSENSUS_COLUMNS].reset_index(drop=True)
