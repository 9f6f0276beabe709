"""Seeded mutations of real annotation files, for the fuzz test: byte flips, truncation, and
structure-aware changes (deleted keys, elements, tokens and table cells; values swapped for
values of another type, or for huge, negative and non-finite numbers).

Every function takes a ``random.Random`` and returns (new content, a short description), so a
failing case can be rebuilt from its seed alone.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

# Values a mutation puts where another type was: each is something a reader must refuse or
# accept cleanly, never crash on.
ODD_VALUES = [None, "x", "", -1, 0, 1e308, -1e308, 2**70, 3.5, [], [1], [[1, 2]], {}, {"a": 1}, True,
              "1e308", "nan", "inf", "-inf"]
ODD_TOKENS = ["x", "", "-1", "0", "1e308", "-1e308", "nan", "inf", "1" * 40, "0.5", "99999", "1,2", "{}"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}


def copy_source(src: Path, dst: Path) -> Path:
    """A private copy of a file or folder; image files in folders are linked, not copied."""
    if src.is_file():
        shutil.copyfile(src, dst)
        return dst

    def link_images(a, b):
        if Path(a).suffix.lower() in IMAGE_SUFFIXES and Path(a).parent.name != "SegmentationObject":
            os.symlink(os.path.abspath(a), b)
        else:
            shutil.copyfile(a, b)

    shutil.copytree(src, dst, copy_function=link_images)
    return dst


def annotation_files(root: Path) -> list[Path]:
    """The files of a copied source that a mutation may change (not the linked images)."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


# --- raw bytes ---------------------------------------------------------------------------------

def flip_bytes(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    out = bytearray(data)
    k = rng.randint(1, 8)
    places = [rng.randrange(len(out)) for _ in range(k)] if out else []
    for i in places:
        out[i] = rng.randrange(256)
    return bytes(out), f"{k} byte(s) replaced at {places}"


def truncate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    cut = rng.randrange(len(data)) if data else 0
    return data[:cut], f"cut at byte {cut} of {len(data)}"


# --- JSON --------------------------------------------------------------------------------------

def _nodes(value, path=()):
    """Every (path, value) inside a parsed JSON document, the root included."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, (*path, i))


def _parent(doc, path):
    node = doc
    for key in path[:-1]:
        node = node[key]
    return node


def mutate_json(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    doc = json.loads(data.decode("utf-8-sig"))
    nodes = [p for p, _ in _nodes(doc) if p]
    if not nodes:
        return flip_bytes(data, rng)
    path = rng.choice(nodes)
    parent = _parent(doc, path)
    key = path[-1]
    op = rng.choice(["delete", "swap", "swap", "wrap", "duplicate"])
    if op == "delete":
        del parent[key]
    elif op == "swap":
        parent[key] = rng.choice(ODD_VALUES)
    elif op == "wrap":
        parent[key] = [parent[key]]
    elif isinstance(parent, list):
        parent.append(parent[key])
    else:
        parent[f"{key}_copy"] = parent[key]
    value = parent.get(key) if isinstance(parent, dict) else (parent[key] if key < len(parent) else None)
    text = json.dumps(doc)  # 2**70 and 1e308 stay as written
    return text.encode(), f"JSON {op} at {list(path)} -> {str(value)[:40]}"


# --- XML ---------------------------------------------------------------------------------------

def mutate_xml(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    root = ET.fromstring(data)
    elements = list(root.iter())
    el = rng.choice(elements)
    op = rng.choice(["attribute", "attribute", "text", "delete child", "duplicate child"])
    if op == "attribute" and el.attrib:
        name = rng.choice(sorted(el.attrib))
        if rng.random() < 0.3:
            del el.attrib[name]
            what = f"deleted attribute {name!r} of <{el.tag}>"
        else:
            el.set(name, rng.choice(ODD_TOKENS))
            what = f"attribute {name!r} of <{el.tag}> = {el.get(name)!r}"
    elif op in ("delete child", "duplicate child") and len(el):
        child = rng.choice(list(el))
        if op == "delete child":
            el.remove(child)
        else:
            el.append(child)
        what = f"{op} <{child.tag}> of <{el.tag}>"
    else:
        el.text = rng.choice(ODD_TOKENS)
        what = f"text of <{el.tag}> = {el.text!r}"
    return ET.tostring(root), f"XML {what}"


# --- text (YOLO labels, names files, pipe and CSV lines) ------------------------------------------

def mutate_text(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    lines = data.decode("utf-8", errors="replace").splitlines()
    if not lines:
        return (rng.choice(ODD_TOKENS) + "\n").encode(), "empty file given one token"
    n = rng.randrange(len(lines))
    tokens = lines[n].split(" ")
    op = rng.choice(["token", "token", "delete token", "add token", "delete line", "duplicate line"])
    if op == "token" and tokens:
        i = rng.randrange(len(tokens))
        tokens[i] = rng.choice(ODD_TOKENS)
        lines[n] = " ".join(tokens)
    elif op == "delete token" and tokens:
        del tokens[rng.randrange(len(tokens))]
        lines[n] = " ".join(tokens)
    elif op == "add token":
        lines[n] = " ".join([*tokens, rng.choice(ODD_TOKENS)])
    elif op == "delete line":
        del lines[n]
    else:
        lines.insert(n, lines[n])
    return ("\n".join(lines) + "\n").encode(), f"text {op} on line {n + 1}: {lines[n] if n < len(lines) else ''}"[:120]


# --- SQLite ------------------------------------------------------------------------------------

def mutate_sqlite(path: Path, rng: random.Random) -> str:
    """Change the database at ``path`` in place; returns the description."""
    con = sqlite3.connect(path)
    try:
        for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            con.execute(f'DROP TRIGGER "{trigger}"')  # SlideRunner's call functions of its own
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        table = rng.choice(tables)
        if rng.random() < 0.08:
            con.execute(f'DROP TABLE "{table}"')
            con.commit()
            return f"SQLite dropped table {table!r}"
        columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        rowids = [r[0] for r in con.execute(f'SELECT rowid FROM "{table}"')]
        if not rowids:
            con.execute(f'DROP TABLE "{table}"')
            con.commit()
            return f"SQLite dropped empty table {table!r}"
        column = rng.choice(columns)
        rowid = rng.choice(rowids)
        value = rng.choice(["text", None, 1e308, float("-inf"), float("nan"), 2**63 - 1, -1, 0, 2.5, b"\x00\x01"])
        try:
            con.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', [value, rowid])
        except sqlite3.IntegrityError:  # an INTEGER PRIMARY KEY takes integers only: drop the row
            con.execute(f'DELETE FROM "{table}" WHERE rowid = ?', [rowid])
            value = "(row deleted)"
        con.commit()
        return f"SQLite {table}.{column} of row {rowid} = {value!r}"
    finally:
        con.close()


STRUCTURED = {".json": mutate_json, ".geojson": mutate_json, ".xml": mutate_xml, ".txt": mutate_text,
              ".names": mutate_text, ".data": mutate_text, ".yaml": mutate_text, ".csv": mutate_text}


def mutate_file(path: Path, rng: random.Random) -> str:
    """Mutate one file in place (structure-aware or raw bytes, chosen by the seed)."""
    suffix = path.suffix.lower()
    if suffix == ".sqlite" and rng.random() < 0.7:
        return mutate_sqlite(path, rng)
    data = path.read_bytes()
    structured = STRUCTURED.get(suffix)
    kind = rng.random()
    if structured is not None and kind < 0.6:
        try:
            out, what = structured(data, rng)
        except (ValueError, ET.ParseError):  # not parseable as its kind: mutate the bytes
            out, what = flip_bytes(data, rng)
    elif kind < 0.8:
        out, what = flip_bytes(data, rng)
    else:
        out, what = truncate(data, rng)
    path.write_bytes(out)
    return what
