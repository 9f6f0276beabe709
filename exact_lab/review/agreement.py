"""Agreement between annotators: detection agreement per user pair and type, label agreement
(kappa, alpha) for image labels and for the classes of matched objects, and the disagreements as
a layer the viewer can show.

For a pair (a, b) the first user is the reference: fn are a's objects b did not draw, fp are b's
objects a did not draw, so precision is b's against a and recall a's found by b.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ..store.geometry import from_wkb_array
from . import kappa
from .matching import Matches, match
from .objects import geometry_of, matchable, pick_users

AGREEMENT_COLUMNS = ["user_a", "user_b", "type", "n_a", "n_b", "tp", "fp", "fn", "precision", "recall", "f1",
                     "mean_iou", "mean_distance"]
LABEL_COLUMNS = ["labels", "statistic", "users", "value", "items"]
MATCH_COLUMNS = ["type", "kind", "image_id", "frame", "creator", "xmin", "ymin", "xmax", "ymax", "geometry"]
DISAGREEMENT_COLUMNS = ["uuid", "image_id", "frame", "type", "user", "other_user", "other_type", "kind",
                        "geometry", "xmin", "ymin", "xmax", "ymax"]


def pair_matches(objects: pd.DataFrame, user_a: str, user_b: str, by: str, *, iou: float, radius):
    """For each group of ``by`` ("type", or "kind" for class-agnostic matching), image and frame:
    (group key, a's rows, b's rows, Matches)."""
    mine = objects[objects["creator"].isin([user_a, user_b])]
    for (key, _image, _frame), part in mine.groupby([by, "image_id", "frame"], sort=True):
        rows_a = part[part["creator"] == user_a]
        rows_b = part[part["creator"] == user_b]
        kind = part["kind"].iloc[0]
        if len(rows_a) and len(rows_b):
            found = match(kind, geometry_of(rows_a, kind), geometry_of(rows_b, kind), iou=iou, radius=radius)
        else:
            found = Matches.empty()
        yield key, rows_a, rows_b, found


def agreement_table(objects: pd.DataFrame, users=None, *, iou: float = 0.5, radius=None) -> pd.DataFrame:
    """One row per user pair and type: tp, fp, fn, precision, recall, F1, mean IoU (boxes,
    polygons) or mean distance (points) of the matches."""
    objects = matchable(objects, radius)
    users = pick_users(objects, users)
    # only what matching reads: each group's row selections then copy no uuid, source or image
    # strings (0.3 s of 1.6 s for 100,000 boxes a side, benchmarks/agreement.py)
    objects = objects[[c for c in MATCH_COLUMNS if c in objects.columns]]
    records = []
    for user_a, user_b in itertools.combinations(users, 2):
        totals: dict = {}
        for key, rows_a, rows_b, found in pair_matches(objects, user_a, user_b, "type", iou=iou, radius=radius):
            entry = totals.setdefault(key, {"n_a": 0, "n_b": 0, "tp": 0, "values": [], "kind": rows_a["kind"].iloc[0]
                                            if len(rows_a) else rows_b["kind"].iloc[0]})
            entry["n_a"] += len(rows_a)
            entry["n_b"] += len(rows_b)
            entry["tp"] += len(found.a)
            entry["values"].append(found.value)
        for type_name, entry in sorted(totals.items()):
            tp, n_a, n_b = entry["tp"], entry["n_a"], entry["n_b"]
            values = np.concatenate(entry["values"]) if entry["values"] else np.zeros(0)
            precision = tp / n_b if n_b else np.nan
            recall = tp / n_a if n_a else np.nan
            f1 = 2 * tp / (n_a + n_b) if n_a + n_b else np.nan
            mean = float(values.mean()) if len(values) else np.nan
            point = entry["kind"] == "point"
            records.append({
                "user_a": user_a, "user_b": user_b, "type": type_name, "n_a": n_a, "n_b": n_b,
                "tp": tp, "fp": n_b - tp, "fn": n_a - tp, "precision": precision, "recall": recall, "f1": f1,
                "mean_iou": np.nan if point else mean, "mean_distance": mean if point else np.nan,
            })
    return pd.DataFrame.from_records(records, columns=AGREEMENT_COLUMNS)


def disagreement_rows(objects: pd.DataFrame, users=None, *, iou: float = 0.5, radius=None) -> pd.DataFrame:
    """Objects one user drew and the other did not ("unmatched"), and objects both drew with
    different types ("label differs", matched without regard to type), for every pair."""
    objects = matchable(objects, radius)
    users = pick_users(objects, users)
    out = []
    for user_a, user_b in itertools.combinations(users, 2):
        for _kind, rows_a, rows_b, found in pair_matches(objects, user_a, user_b, "kind", iou=iou, radius=radius):
            for rows, mine, user, other in ((rows_a, found.a, user_a, user_b), (rows_b, found.b, user_b, user_a)):
                alone = rows.drop(rows.index[mine])
                out.append(alone.assign(user=user, other_user=other, other_type=None, kind="unmatched"))
            ta = rows_a["type"].to_numpy()[found.a]
            tb = rows_b["type"].to_numpy()[found.b]
            differ = ta != tb
            if differ.any():
                out.append(rows_a.iloc[found.a[differ]].assign(user=user_a, other_user=user_b,
                                                               other_type=tb[differ], kind="label differs"))
    if not out:
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    rows = pd.concat(out, ignore_index=True)
    rows["geometry"] = from_wkb_array(rows["geometry"].to_numpy())
    return rows[DISAGREEMENT_COLUMNS]


def label_table(objects: pd.DataFrame, users=None, *, iou: float = 0.5, radius=None) -> pd.DataFrame:
    """Cohen's kappa per pair, Fleiss' kappa and Krippendorff's alpha over all raters, for image
    labels (``global`` annotations: each user's latest label per image and frame) and for the
    classes of objects matched without regard to type (the first user's objects are the items of
    the all-rater statistics; a rater who did not draw one has no rating for it)."""
    records = []
    image_labels = _image_labels(objects)
    raters = pick_users(objects, users)
    if not image_labels.empty:
        table = image_labels.reindex(columns=raters)
        records += _statistics("image", table)
    shapes = matchable(objects, radius)
    if len(raters) >= 2 and not shapes.empty:
        records += _statistics("object", _object_ratings(shapes, raters, iou=iou, radius=radius),
                               pairs=_object_pairs(shapes, raters, iou=iou, radius=radius))
    return pd.DataFrame.from_records(records, columns=LABEL_COLUMNS)


def _image_labels(objects: pd.DataFrame) -> pd.DataFrame:
    """items (image, frame) × raters: the type of each rater's latest global annotation."""
    labels = objects[objects["vector_type"] == "global"].sort_values("updated_at")
    if labels.empty:
        return pd.DataFrame()
    latest = labels.groupby(["image_id", "frame", "creator"])["type"].last()
    return latest.unstack("creator")


def _object_pairs(shapes, raters, *, iou, radius) -> dict:
    """(a, b) -> (a's labels, b's labels) of their matched objects."""
    pairs = {}
    for a, b in itertools.combinations(raters, 2):
        la, lb = [], []
        for _kind, rows_a, rows_b, found in pair_matches(shapes, a, b, "kind", iou=iou, radius=radius):
            la.append(rows_a["type"].to_numpy()[found.a])
            lb.append(rows_b["type"].to_numpy()[found.b])
        pairs[(a, b)] = (np.concatenate(la) if la else np.zeros(0, object), np.concatenate(lb) if lb else np.zeros(0, object))
    return pairs


def _object_ratings(shapes, raters, *, iou, radius) -> pd.DataFrame:
    reference = raters[0]
    items = shapes[shapes["creator"] == reference]
    table = pd.DataFrame({reference: items["type"].to_numpy()}, index=items["uuid"].to_numpy())
    for other in raters[1:]:
        column = pd.Series([None] * len(items), index=table.index, dtype=object)
        for _kind, rows_a, rows_b, found in pair_matches(shapes, reference, other, "kind", iou=iou, radius=radius):
            column.loc[rows_a["uuid"].to_numpy()[found.a]] = rows_b["type"].to_numpy()[found.b]
        table[other] = column
    return table


def _statistics(scope: str, table: pd.DataFrame, pairs: dict | None = None) -> list[dict]:
    """Rows for one scope; ``table`` is items × raters (None = no rating)."""
    raters = list(table.columns)
    out = []
    for a, b in itertools.combinations(raters, 2):
        if pairs is not None:
            la, lb = pairs[(a, b)]
        else:
            both = table[[a, b]].dropna()
            la, lb = both[a].to_numpy(), both[b].to_numpy()
        out.append({"labels": scope, "statistic": "cohen_kappa", "users": f"{a}, {b}",
                    "value": kappa.cohen_kappa(la, lb), "items": len(la)})
    complete = table.dropna()
    if len(raters) >= 2:
        value = kappa.fleiss_kappa(kappa.category_counts(complete.to_numpy().T)) if len(complete) else np.nan
        out.append({"labels": scope, "statistic": "fleiss_kappa", "users": ", ".join(raters), "value": value,
                    "items": len(complete)})
        ratings = table.T.to_numpy(dtype=object)
        out.append({"labels": scope, "statistic": "krippendorff_alpha", "users": ", ".join(raters),
                    "value": kappa.krippendorff_alpha(ratings), "items": int((table.notna().sum(axis=1) >= 2).sum())})
    return out
