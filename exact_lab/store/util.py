"""Small helpers shared by the store modules."""

from __future__ import annotations

import datetime as _dt
import json
import re

import pandas as pd

from ..errors import InvalidValueError


def utcnow() -> _dt.datetime:
    """Naive UTC timestamp: the store keeps every time in UTC."""
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def sql_text(text: str) -> str:
    """A string as an SQL literal. For reads of the lake where a ``?`` parameter costs: DuckDB
    1.5.5 ran a review queue of 100,000 rows 3x slower with the user name as a parameter than
    written in the query (1.25 s against 0.40 s)."""
    return "'" + str(text).replace("'", "''") + "'"


def next_id(con, table: str, column: str) -> int:
    return int(con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchone()[0])


def insert_row(con, table: str, row: dict) -> None:
    """INSERT one row by column name (never by position: a reordered or added column must not
    shift values into their neighbours)."""
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def load_meta_column(series: pd.Series) -> pd.Series:
    """Parse a JSON text column into dicts, touching only non-null rows (most are null)."""
    out = pd.Series([None] * len(series), index=series.index, dtype=object)
    mask = series.notna().to_numpy()
    if mask.any():
        out[mask] = [json.loads(v) for v in series[mask]]
    return out


_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def check_color(color: str | None) -> str | None:
    if color is None:
        return None
    if not isinstance(color, str) or not _COLOR.match(color):
        raise InvalidValueError(f"colour {color!r} is not of the form '#rrggbb'")
    if len(color) == 4:
        color = "#" + "".join(c * 2 for c in color[1:])
    return color.lower()
