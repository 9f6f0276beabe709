"""Screening an image tile by tile (EXACT's screening mode), kept per user and image in the store.

``proj.start_screening(image)`` makes the grid (or resumes the stored one) and returns a
:class:`Screening`. Moves follow the keys of the viewer: ``w a s d`` go up / left / down / right
and mark the tile left as screened, ``i j k l`` move the same way without marking. Left and right
walk the tiles in reading order (the end of a row goes on to the next row); up and down go to the
nearest tile of the next row up or down that holds tissue. Every move is saved at once.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from ..store.util import utcnow
from .grid import Grid
from .tissue import THUMBNAIL_SIZE, tiles_with_tissue, tissue_mask

DEFAULT_SCREEN = 1024  # screen pixels a tile fills at the chosen zoom

# Keys and the moves they make: (dx, dy, marks the tile left).
KEYS = {"w": (0, -1, True), "a": (-1, 0, True), "s": (0, 1, True), "d": (1, 0, True),
        "i": (0, -1, False), "j": (-1, 0, False), "k": (0, 1, False), "l": (1, 0, False)}


class Screening:
    """One user's screening of one image: the grid, the tiles in play, what is screened, where
    the user is. Changes go to the store through ``project`` on every move."""

    def __init__(self, project, image_id: int, user: str, grid: Grid, zoom: float, tiles: list[int],
                 visited=(), current: int | None = None, skip_background: bool = True):
        if not tiles:
            raise InvalidValueError(f"image {image_id} has no tile with tissue to screen")
        self.project = project
        self.image_id = int(image_id)
        self.user = user
        self.grid = grid
        self.zoom = float(zoom)
        self.tiles = sorted(int(t) for t in tiles)
        self.skip_background = skip_background
        self.visited = {int(v) for v in visited} & set(self.tiles)
        self.current = int(current) if current in self.tiles else self.tiles[0]
        self._listeners: list = []

    # -- where the user is ------------------------------------------------------------------
    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.grid.bounds(self.current)

    @property
    def progress(self) -> float:
        return len(self.visited) / len(self.tiles)

    @property
    def done(self) -> bool:
        return len(self.visited) == len(self.tiles)

    def status(self) -> str:
        col, row = self.grid.position(self.current)
        return (f"screening: tile {self.tiles.index(self.current) + 1} of {len(self.tiles)} "
                f"(col {col + 1}, row {row + 1}), {len(self.visited)} screened ({self.progress:.0%})")

    def describe(self) -> dict:
        """The viewer's ``_screening`` trait: the grid, the tiles in play, screened and current."""
        return {**self.grid.describe(), "tiles": self.tiles, "visited": sorted(self.visited),
                "current": self.current, "zoom": self.zoom, "status": self.status()}

    # -- moving ----------------------------------------------------------------------------
    def key(self, key: str) -> int:
        """Apply one of the screening keys (w a s d, i j k l)."""
        if key not in KEYS:
            raise InvalidValueError(f"screening key {key!r}; expected one of {' '.join(KEYS)}")
        dx, dy, mark = KEYS[key]
        return self.move(dx, dy, mark=mark)

    def move(self, dx: int, dy: int, *, mark: bool = True) -> int:
        """Move one tile (dx, dy in -1, 0, 1); with ``mark`` the tile left counts as screened
        (the last tile too, when there is nowhere further to go). Saved at once."""
        if (abs(dx), abs(dy)) not in ((1, 0), (0, 1)):
            raise InvalidValueError(f"a screening move is one step left, right, up or down, got ({dx}, {dy})")
        if mark:
            self.visited.add(self.current)
        self.current = self._neighbour(dx, dy)
        self.save()
        for listener in list(self._listeners):
            listener(self)
        return self.current

    def goto(self, tile: int) -> None:
        if int(tile) not in self.tiles:
            raise InvalidValueError(f"tile {tile} is not one of the tiles to screen")
        self.current = int(tile)
        self.save()

    def on_move(self, callback) -> None:
        self._listeners.append(callback)

    def _neighbour(self, dx: int, dy: int) -> int:
        k = self.tiles.index(self.current)
        if dx:
            return self.tiles[min(len(self.tiles) - 1, max(0, k + dx))]
        col, row = self.grid.position(self.current)
        rows = {}
        for tile in self.tiles:
            c, r = self.grid.position(tile)
            if (r - row) * dy > 0:
                rows.setdefault(r, []).append((abs(c - col), tile))
        if not rows:
            return self.current
        nearest_row = min(rows, key=lambda r: abs(r - row))
        return min(rows[nearest_row])[1]

    # -- the store --------------------------------------------------------------------------
    def save(self) -> None:
        save_state(self.project, self)

    def __repr__(self):
        return f"<Screening image={self.image_id} user={self.user!r} {self.status()}>"


def save_state(project, screening: Screening) -> None:
    """The state row and the plan (tiles in play) of one user and image, as one snapshot."""
    s = screening
    grid = s.grid

    def work(con):
        con.execute("DELETE FROM screening_states WHERE username = ? AND image_id = ?", [s.user, s.image_id])
        con.execute("INSERT INTO screening_states VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [s.user, s.image_id, grid.tile_width, grid.tile_height, s.zoom, grid.overlap, grid.cols,
                     grid.rows, json.dumps(sorted(s.visited)), s.current, utcnow()])
        con.execute("DELETE FROM screening_plans WHERE username = ? AND image_id = ?", [s.user, s.image_id])
        con.execute("INSERT INTO screening_plans VALUES (?, ?, ?, ?)",
                    [s.user, s.image_id, json.dumps(s.tiles), s.skip_background])

    project.check_write_access([s.image_id])
    project._write(work, f"screening of image {s.image_id} by {s.user}: tile {s.current}")


def load_state(project, image_id: int, user: str) -> dict | None:
    rows = project.sql(
        "SELECT s.tile_width, s.tile_height, s.zoom, s.overlap, s.visited, s.current_tile, p.tiles, "
        "p.skip_background, s.updated_at FROM screening_states s LEFT JOIN screening_plans p "
        "USING (username, image_id) WHERE s.username = ? AND s.image_id = ?", [user, image_id]).fetchall()
    if not rows:
        return None
    names = ("tile_width", "tile_height", "zoom", "overlap", "visited", "current", "tiles", "skip_background",
             "updated_at")
    return dict(zip(names, rows[0]))


def start(project, image, tile_size=None, zoom=None, overlap: float = 0.15, skip_background: bool = True,
          user: str | None = None) -> Screening:
    """Make or resume the screening of ``image`` by ``user`` (see ``ScreeningMixin``)."""
    record = project.image(image)
    image_id, width, height = int(record["image_id"]), int(record["width"]), int(record["height"])
    user = user or project.user
    if zoom is not None and not zoom > 0:
        raise InvalidValueError(f"zoom is screen pixels per image pixel (> 0), got {zoom!r}")
    if tile_size is not None:
        tw, th = (tile_size, tile_size) if np.isscalar(tile_size) else tuple(tile_size)
        zoom = zoom or DEFAULT_SCREEN / max(tw, th)
    else:
        zoom = zoom or 1.0
        tw = th = DEFAULT_SCREEN / zoom
    grid = Grid(width, height, int(round(tw)), int(round(th)), float(overlap))
    stored = load_state(project, image_id, user)
    if stored is not None and (stored["tile_width"], stored["tile_height"], stored["overlap"]) == (
            grid.tile_width, grid.tile_height, grid.overlap) and stored["tiles"] is not None:
        screening = Screening(project, image_id, user, grid, stored["zoom"], json.loads(stored["tiles"]),
                              json.loads(stored["visited"] or "[]"), stored["current"],
                              skip_background=bool(stored["skip_background"]))
        return screening
    tiles = list(range(grid.cols * grid.rows))
    if skip_background:
        from ..slides import open_slide

        thumb = np.asarray(open_slide(record["path"]).thumbnail(THUMBNAIL_SIZE))
        tiles = tiles_with_tissue(tissue_mask(thumb), grid, width, height)
    screening = Screening(project, image_id, user, grid, zoom, tiles, skip_background=skip_background)
    screening.save()
    return screening


def progress_table(project, image_set=None, user: str | None = None) -> pd.DataFrame:
    """image, user, tiles, screened, fraction, current tile, last move: one row per screening."""
    images = project.images(image_set=image_set)[["image_id", "name", "public_name", "pseudonymized"]]
    states = project.sql(
        "SELECT s.image_id, s.username AS user, p.tiles, s.visited, s.current_tile, s.updated_at AS last_move "
        "FROM screening_states s LEFT JOIN screening_plans p USING (username, image_id)").df()
    if user is not None:
        states = states[states["user"] == user]
    frame = states.merge(images, on="image_id")
    shown = frame["public_name"].where(frame["pseudonymized"].fillna(False).astype(bool), frame["name"])
    tiles = [len(json.loads(t)) if isinstance(t, str) else np.nan for t in frame["tiles"]]
    screened = [len(json.loads(v or "[]")) for v in frame["visited"]]
    out = pd.DataFrame({
        "image_id": frame["image_id"].astype("int64"), "image": shown, "user": frame["user"],
        "tiles": tiles, "screened": screened,
        "current_tile": frame["current_tile"], "last_move": frame["last_move"],
    })
    out.insert(5, "fraction", out["screened"] / out["tiles"])
    return out.sort_values(["image_id", "user"]).reset_index(drop=True)
