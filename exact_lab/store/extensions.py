"""Load DuckDB extensions: installed ones first, then the pinned pip packages, then the network.

Hospitals and this workplace have no route to DuckDB's extension repository; the pip packages
``duckdb-extension-<name>`` of the same DuckDB version carry the binaries instead.
"""

from __future__ import annotations

import glob
import importlib.util
import os

import duckdb

# extension name -> pip package (import name) that ships its binary
_PIP_PACKAGES = {
    "ducklake": "duckdb_extension_ducklake",
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
}


def _packaged_binary(name: str) -> str | None:
    module = _PIP_PACKAGES.get(name)
    spec = importlib.util.find_spec(module) if module else None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = list(spec.submodule_search_locations)[0]
    version = duckdb.__version__
    exact = os.path.join(root, "extensions", f"v{version}", f"{name}.duckdb_extension")
    if os.path.exists(exact):
        return exact
    found = sorted(glob.glob(os.path.join(root, "extensions", "*", f"{name}.duckdb_extension")))
    return found[-1] if found else None


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection ready to load the packaged extensions quickly.

    DuckDB checks an extension's signature on every LOAD by hashing the whole binary: 0.5-0.7 s
    per load for DuckLake's 36 MB, twice per project opened (measured; 0.01 s without the check),
    which made opening a project cost ~1.2 s and the test suite minutes. The binaries loaded are
    the ones pip installed from the pinned ``duckdb-extension-*`` packages (checked by pip), so the
    connection skips DuckDB's own check.
    """
    return duckdb.connect(config={"allow_unsigned_extensions": "true"})


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load ``name`` into ``con``: the pip package's binary, else an installed one, else download.

    The packaged binary comes first: a plain ``LOAD`` of an extension that is not installed tries
    the network first (0.5 s here, and a connection timeout where the network hangs).
    """
    binary = _packaged_binary(name)
    if binary:
        con.execute(f"LOAD '{binary}'")
        return
    try:
        con.execute(f"LOAD {name}")
        return
    except duckdb.Error:
        pass
    # Last resort: the standard repository (needs the network).
    con.execute(f"INSTALL {name}")
    con.execute(f"LOAD {name}")
