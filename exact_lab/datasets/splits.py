"""Splitting an image set into virtual sets (train / val / test) that never share an image or a group.

Groups (a patient, a case: ``by=``) are kept whole. Each goes into the split furthest below its
share, where "below" counts images and, with ``balance=True``, annotations too, in orders drawn
from ``seed``; the same images, counts and seed give the same split.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from ..errors import InvalidValueError

# Fractions must add up to one within this (0.7 + 0.15 + 0.15 is 1.0000000000000002 in floats).
FRACTION_TOLERANCE = 1e-6
# Random orders tried per split (the closest to the fractions is kept): 64 cost ~0.1 s for 1,000 groups.
TRIES = 64


def check_fractions(fractions) -> dict[str, float]:
    if not isinstance(fractions, dict) or not fractions:
        raise InvalidValueError(f"split fractions must be a dict of name -> fraction, got {fractions!r}")
    out = {}
    for name, value in fractions.items():
        if not isinstance(name, str) or not name:
            raise InvalidValueError(f"split name {name!r} must be a non-empty string")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidValueError(f"split {name!r}: fraction {value!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise InvalidValueError(f"split {name!r}: fraction {value!r} must be >= 0")
        out[name] = value
    total = sum(out.values())
    if abs(total - 1) > FRACTION_TOLERANCE:
        raise InvalidValueError(f"split fractions add up to {total:g}, not 1 ({out})")
    return out


def group_keys(images: pd.DataFrame, by: str | None) -> pd.Series:
    """The group of each image: its own id, or the value of column / meta key ``by``."""
    if by is None:
        return images["image_id"].astype(str)
    if by in images.columns and by != "meta":
        values = images[by]
    else:
        values = images["meta"].map(lambda meta: (meta or {}).get(by) if isinstance(meta, dict) else None)
    missing = values.isna()
    if missing.any():
        row = images[missing].iloc[0]
        raise InvalidValueError(
            f"image {row['image_id']} ({row['name']!r}) has no {by!r} (neither a column nor a key of its meta); "
            f"{int(missing.sum())} image(s) lack it")
    return values.map(lambda v: json.dumps(v, sort_keys=True, default=str) if not isinstance(v, str) else v)


def assign(groups: pd.DataFrame, fractions: dict[str, float], *, seed: int = 0, balance: bool = True) -> dict:
    """``groups`` has columns group, images, annotations; returns group -> split name.

    Each of ``TRIES`` orders drawn from ``seed`` is placed greedily (each group into the split
    furthest below its share); the order whose result is closest to the fractions wins. One
    largest-first pass balances as well but ignores the seed whenever group sizes differ."""
    names = list(fractions)
    target = [fractions[n] for n in names]
    images = groups["images"].to_numpy(dtype=float).tolist()
    annotations = groups["annotations"].to_numpy(dtype=float).tolist()
    n_images, n_annotations = max(sum(images), 1.0), sum(annotations)
    use_annotations = balance and n_annotations > 0
    n_annotations = max(n_annotations, 1.0)
    open_splits = [k for k, t in enumerate(target) if t > 0]  # a split asked for 0 gets nothing
    rng = np.random.default_rng(seed)
    best, best_cost = None, math.inf
    for _ in range(TRIES):
        have_i = [0.0] * len(names)
        have_a = [0.0] * len(names)
        chosen = [0] * len(images)
        for index in rng.permutation(len(images)).tolist():
            pick = max(open_splits, key=lambda k: (target[k] - have_i[k] / n_images)
                       + ((target[k] - have_a[k] / n_annotations) if use_annotations else 0.0))
            chosen[index] = pick
            have_i[pick] += images[index]
            have_a[pick] += annotations[index]
        cost = sum((have_i[k] / n_images - target[k]) ** 2 for k in range(len(names)))
        if use_annotations:
            cost += sum((have_a[k] / n_annotations - target[k]) ** 2 for k in range(len(names)))
        if cost < best_cost - 1e-12:
            best, best_cost = chosen, cost
    return {group: names[k] for group, k in zip(groups["group"], best)}


def split(project, image_set, fractions, by=None, seed: int = 0, *, balance: bool = True, version=None,
          prefix: str = "", replace: bool = False) -> pd.DataFrame:
    """Make one virtual image set per split (named ``prefix + name``) and return the assignment:
    image_id, name, group, annotations, split."""
    fractions = check_fractions(fractions)
    images = project.images(image_set=image_set, version=version)
    if images.empty:
        raise InvalidValueError(f"image set {image_set!r} has no images to split")
    images = images.assign(group=group_keys(images, by).to_numpy())
    counts = annotation_counts(project, image_set, version)
    images["annotations"] = images["image_id"].map(counts).fillna(0).astype(int)
    groups = images.groupby("group", sort=True).agg(images=("image_id", "size"), annotations=("annotations", "sum"))
    chosen = assign(groups.reset_index(), fractions, seed=seed, balance=balance)
    images["split"] = images["group"].map(chosen)
    record = {"source": image_set, "fractions": fractions, "by": by, "seed": seed, "balance": balance,
              "version": version}
    write_sets(project, images, fractions, prefix, record, replace)
    return images[["image_id", "name", "group", "annotations", "split"]].reset_index(drop=True)


def annotation_counts(project, image_set, version) -> dict[int, int]:
    relation = project.annotations(image_set=image_set, version=version, as_relation=True)
    rows = relation.aggregate("image_id, count(*) AS n").fetchall()
    return {int(image_id): int(n) for image_id, n in rows}


def write_sets(project, images: pd.DataFrame, fractions, prefix: str, record: dict, replace: bool) -> None:
    """All split sets in one snapshot, each describing how it was made (JSON)."""
    sets = project.image_sets()
    source = sets[sets["name"] == record["source"]] if isinstance(record["source"], str) else sets[
        sets["image_set_id"] == record["source"]]
    mode = source["mode"].iloc[0] if len(source) else "cooperative"
    members = {prefix + name: images.loc[images["split"] == name, "image_id"].tolist() for name in fractions}
    descriptions = {prefix + name: json.dumps({"split": name, **record}, default=str) for name in fractions}
    project.add_virtual_sets(members, mode=mode, descriptions=descriptions, replace=replace,
                             message=f"split {record['source']} into {', '.join(members)}")
