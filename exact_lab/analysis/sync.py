"""Edits on a map flow back to the source annotations, by uuid.

A change of type, a deletion (or undeletion), a geometry edit (translated and scaled back into the
source's level-0 pixels) and each user's verify / reject on a map annotation are applied to the
annotation it was cut from. What was passed on is remembered (``state.py``), so syncing twice
changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import shapely

from ..errors import InvalidValueError
from . import state as saved
from .transform import to_source

# Map geometries closer than this (map pixels) to what was synced count as unchanged. Not 0: the
# viewer holds shapes as float32 and a retype sends them back so (at 16,384 px a float32 step is
# 0.002 px), which must not count as a moved vertex; a real move is a screen pixel or more.
GEOMETRY_TOLERANCE = 0.01


@dataclass
class SyncReport:
    retyped: list = field(default_factory=list)
    moved: list = field(default_factory=list)
    deleted: list = field(default_factory=list)
    restored: list = field(default_factory=list)
    verified: list = field(default_factory=list)
    rejected: list = field(default_factory=list)

    def counts(self) -> dict:
        return {k: len(v) for k, v in self.__dict__.items()}

    def __repr__(self):
        return f"SyncReport({', '.join(f'{k}={v}' for k, v in self.counts().items())})"


def sync(m, uuids=None) -> SyncReport:
    """Pass every edit made on map ``m`` since the last sync to the source annotations."""
    project = m.project
    current = project.annotations(image=m.image_id, include_deleted=True)
    state, verdicts = saved.read(m.stem)
    if uuids is not None:
        wanted = {str(u) for u in uuids}
        current = current[current["uuid"].isin(wanted)]
    mapping = m.mapping.set_index("map_uuid")
    current = current[current["uuid"].isin(mapping.index)]  # annotations drawn on the map later are not mapped
    before = state.set_index("map_uuid").loc[current["uuid"]]
    now = current.set_index("uuid")
    report = SyncReport()

    retyped = now.index[(now["type"].to_numpy() != before["type"].to_numpy())]
    moved_mask = ~shapely.equals_exact(now["geometry"].to_numpy(), before["geometry"].to_numpy(), tolerance=GEOMETRY_TOLERANCE)
    moved = now.index[moved_mask & now["geometry"].notna().to_numpy()]
    deleted_now = now["deleted"].fillna(False).astype(bool).to_numpy()
    deleted_before = before["deleted"].to_numpy(dtype=bool)
    deleted = now.index[deleted_now & ~deleted_before]
    restored = now.index[~deleted_now & deleted_before]

    changed = retyped.union(moved)
    if len(changed):
        rows = mapping.loc[changed]
        update = pd.DataFrame({"uuid": rows["uuid"].to_numpy()})
        update["type"] = [now.at[u, "type"] if u in retyped else None for u in changed]
        back = to_source(now.loc[changed, "geometry"].to_numpy(), rows.reset_index())
        update["geometry"] = [g if u in moved else None for u, g in zip(changed, back)]
        if update["type"].isna().all():
            update = update.drop(columns="type")
        if update["geometry"].isna().all():
            update = update.drop(columns="geometry")
        project.update_annotations(update)
        report.retyped = list(mapping.loc[retyped, "uuid"])
        report.moved = list(mapping.loc[moved, "uuid"])
    if len(deleted):
        report.deleted = project.delete_annotations(list(mapping.loc[deleted, "uuid"]))
    if len(restored):
        report.restored = project.undelete_annotations(list(mapping.loc[restored, "uuid"]))

    verdicts, report.verified, report.rejected = _sync_verdicts(m, mapping, verdicts, set(now.index))

    state = state.set_index("map_uuid")
    state.loc[now.index, "type"] = now["type"]
    state.loc[now.index, "geometry"] = now["geometry"]
    state.loc[now.index, "deleted"] = deleted_now
    saved.write(m.stem, state.reset_index(), verdicts)
    return report


def _sync_verdicts(m, mapping: pd.DataFrame, passed: pd.DataFrame, scope: set) -> tuple[pd.DataFrame, list, list]:
    """Each user's verdict on a map annotation becomes that user's verdict on its source."""
    project = m.project
    given = project.verifications(image=m.image_id)
    given = given[given["uuid"].isin(scope)].drop_duplicates(["uuid", "username"], keep="last")
    given = given.rename(columns={"uuid": "map_uuid"})[["map_uuid", "username", "verified"]]
    merged = given.merge(passed, on=["map_uuid", "username"], how="left", suffixes=("", "_passed"))
    new = merged[merged["verified_passed"].isna() | (merged["verified"] != merged["verified_passed"])]
    verified, rejected = [], []
    for (user, verdict), rows in new.groupby(["username", "verified"]):
        sources = list(mapping.loc[rows["map_uuid"], "uuid"])
        project.verify(sources, verified=bool(verdict), user=user)
        (verified if verdict else rejected).extend(sources)
    kept = passed.merge(given[["map_uuid", "username"]], on=["map_uuid", "username"], how="left", indicator=True)
    kept = passed[(kept["_merge"] == "left_only").to_numpy()]
    return pd.concat([kept, given], ignore_index=True), verified, rejected


EDIT_COLUMNS = ("type", "geometry", "deleted", "verified")


def apply_edits(m, edits) -> SyncReport:
    """Apply edits given in map terms (rows with the map annotation's ``uuid`` and any of ``type``,
    ``geometry`` in map pixels, ``deleted``, ``verified``) to the map, then to the sources."""
    edits = edits.copy() if isinstance(edits, pd.DataFrame) else pd.DataFrame(list(edits) if not isinstance(edits, dict) else [edits])
    if "uuid" not in edits.columns:
        raise InvalidValueError("map edits need a 'uuid' column: the map annotation's uuid (mapping.map_uuid)")
    unknown = set(edits.columns) - set(EDIT_COLUMNS) - {"uuid"}
    if unknown:
        raise InvalidValueError(f"cannot apply {', '.join(sorted(unknown))} from a map; map edits are {', '.join(EDIT_COLUMNS)}")
    edits["uuid"] = edits["uuid"].astype(str)
    mapped = set(m.mapping["map_uuid"])
    outside = [u for u in edits["uuid"] if u not in mapped]
    if outside:
        raise InvalidValueError(f"row {list(edits['uuid']).index(outside[0])}: {outside[0]} is not an annotation of this map")
    project = m.project
    shape = [c for c in ("type", "geometry") if c in edits.columns]
    if shape:
        rows = edits[["uuid"] + shape]
        rows = rows[rows[shape].notna().any(axis=1)]
        if len(rows):
            project.update_annotations(rows)
    if "deleted" in edits.columns:
        given = edits.dropna(subset=["deleted"])
        deleted = given["deleted"].astype(bool).to_numpy()
        if deleted.any():
            project.delete_annotations(list(given["uuid"][deleted]))
        if (~deleted).any():
            project.undelete_annotations(list(given["uuid"][~deleted]))
    if "verified" in edits.columns:
        for verdict, rows in edits.dropna(subset=["verified"]).groupby("verified"):
            project.verify(list(rows["uuid"]), verified=bool(verdict))
    return sync(m, uuids=list(edits["uuid"]))


def select(mapping: pd.DataFrame, *, uuids=None, box=None, polygon=None) -> pd.DataFrame:
    """Mapping rows chosen by map uuids, or whose patch centre lies in a map box / lasso polygon."""
    given = sum(x is not None for x in (uuids, box, polygon))
    if given != 1:
        raise InvalidValueError("choose patches by exactly one of uuids=, box=(x0, y0, x1, y1) or polygon=")
    if uuids is not None:
        wanted = [str(u) for u in ([uuids] if isinstance(uuids, str) else uuids)]
        by_map = mapping.set_index("map_uuid", drop=False)
        by_source = mapping.set_index("uuid", drop=False)
        rows = []
        for u in wanted:
            if u in by_map.index:
                rows.append(by_map.loc[u])
            elif u in by_source.index:
                rows.append(by_source.loc[u])
            else:
                raise InvalidValueError(f"{u} is neither a map annotation nor a source annotation of this map")
        return pd.DataFrame(rows).reset_index(drop=True)
    shape = shapely.box(*box) if box is not None else (polygon if isinstance(polygon, shapely.Geometry) else shapely.Polygon(polygon))
    centres = shapely.points((mapping["map_x0"] + mapping["map_x1"]) / 2, (mapping["map_y0"] + mapping["map_y1"]) / 2)
    return mapping[shapely.contains(shape, centres)].reset_index(drop=True)


__all__ = ["SyncReport", "sync", "apply_edits", "select"]
