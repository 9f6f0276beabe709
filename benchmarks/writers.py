"""Benchmark (a script, not a test): many processes committing single rows to one project.

    python benchmarks/writers.py [--writers 1,2,4,8] [--count 250] [--catalogs embedded,team]
                                 [--peer | --peer-cache] [--pg postgresql://...]

Each writer is a separate process (tests/store/writer_process.py, mode "single") that calls
``add_annotations`` with ONE row ``--count`` times and moves every 25th row through the session.
Printed per run: wall time from the first start to the last exit, commits per second, the median
and worst wait of one ``add_annotations`` call, how long opening took, and failed writers.

Peer (``--peer``): the same run with turn-taking switched off (EXACT_LAB_COMMIT_TURNS=0), i.e. the
optimistic retry loop with back-off that exact-lab used before, measured in the same run. The
ratio printed is peer wall time / ours (> 1: turn-taking is faster), with the peer's failures.

Peer (``--peer-cache``): the same run with the catalog cache off (EXACT_LAB_CATALOG_CACHE=0):
types and images read from their DuckLake tables in every commit, as before store/stamp.py.

Floor (``--floor``): as many single-row commits as the run makes, one after another from one
process, into the project's own DuckLake tables on the same kind of catalog (no exact-lab code). Commits
to one catalog are serial, so no number of writers can finish sooner than this: it says how much of
a run is DuckLake's own commit and how much is ours.

The team catalog needs PostgreSQL: ``--pg URL`` of a server where this user may create
databases, else a throwaway cluster is started like the test suite does (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITER = ROOT / "tests" / "store" / "writer_process.py"
SLIDE = ROOT / ".." / "shared" / "data" / "slides" / "aperio" / "CMU-1-Small-Region.svs"
MOVE_EVERY = 25


def prepare(location, data) -> int:
    import exact_lab as xl

    proj = xl.open_project(location, data=data, user="setup")
    proj.add_annotation_type("cell", "box")
    image_id = int(proj.add_images([SLIDE])["image_id"].iloc[0])
    proj.close()
    return image_id


def run(location, data, writers: int, count: int, workdir: Path, turns: bool, cache: bool = True) -> dict:
    image_id = prepare(location, data)
    env = dict(os.environ)
    if not turns:
        env["EXACT_LAB_COMMIT_TURNS"] = "0"
    if not cache:
        env["EXACT_LAB_CATALOG_CACHE"] = "0"
    outs, procs = [], []
    start = time.perf_counter()
    for k in range(writers):
        out = workdir / f"w{uuid.uuid4().hex[:6]}.json"
        outs.append(out)
        procs.append(subprocess.Popen(
            [sys.executable, str(WRITER), "single", str(location), data or "", f"user{k}", str(image_id),
             str(count), str(MOVE_EVERY), str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env))
    failed, errors = 0, []
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            failed += 1
            errors.append(err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}")
    wall = time.perf_counter() - start
    waits, opens = [], []
    for out in outs:
        if out.exists():
            result = json.loads(out.read_text())
            waits += result["waits"]
            opens.append(result["open"])
    return dict(writers=writers, commits=len(waits), wall=wall, failed=failed, errors=errors,
                rate=len(waits) / wall if wall else 0.0,
                median=statistics.median(waits) if waits else float("nan"),
                worst=max(waits) if waits else float("nan"),
                open=max(opens) if opens else float("nan"))


def floor(location, data, commits: int) -> dict:
    """``commits`` single-row INSERTs, each its own commit, into the project's own DuckLake tables
    (the same schema, the same inlining limit), from one process, with no exact-lab code."""
    from exact_lab.store.connection import INLINING_ROW_LIMIT
    from exact_lab.store.extensions import connect, load_extension
    from exact_lab.store.schema import ANNOTATION_COLUMNS, create_statements

    con = connect()
    team = data is not None
    load_extension(con, "ducklake")
    load_extension(con, "postgres_scanner" if team else "sqlite_scanner")
    if team:
        target, data_path = f"ducklake:postgres:{location}", data
    else:
        Path(location).mkdir(parents=True)
        target, data_path = f"ducklake:sqlite:{Path(location) / 'catalog.sqlite'}", str(Path(location) / "data")
    con.execute(f"ATTACH '{target}' AS lake (DATA_PATH '{data_path}/', DATA_INLINING_ROW_LIMIT {INLINING_ROW_LIMIT})")
    con.execute("USE lake")
    for statement in create_statements():  # a catalog of 22 tables costs DuckLake ~10 ms a commit more than one
        con.execute(statement)
    values = {"uuid": "uuid()", "geometry": "'\\x01'::BLOB", "created_at": "now()", "updated_at": "now()",
              "min_x": "?", "max_x": "?", "description": "?", "deleted": "false", "concealed": "false",
              "blurred": "false", "creator": "'floor'", "editor": "'floor'", "frame": "0", "score": "NULL",
              "source": "NULL", "meta": "NULL", "image_id": "1", "type_id": "1", "min_y": "0", "max_y": "10"}
    sql = (f"INSERT INTO annotations ({', '.join(ANNOTATION_COLUMNS)}) "
           f"VALUES ({', '.join(values[c] for c in ANNOTATION_COLUMNS)})")
    start = time.perf_counter()
    for i in range(commits):
        con.execute(sql, [float(i), i + 10.0, f"row-{i}"])
    wall = time.perf_counter() - start
    con.close()
    return dict(commits=commits, wall=wall, each=wall / commits)


def team_location(pg_url: str | None, holder: list):
    import psycopg

    if pg_url is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from conftest import PostgresServer  # the test suite's throwaway cluster

        server = PostgresServer(Path(tempfile.mkdtemp(prefix="exact-lab-bench-pg-")))
        server.start()
        holder.append(server)
        return server.create_database()
    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return pg_url.rsplit("/", 1)[0] + "/" + name


def line(catalog: str, label: str, r: dict) -> str:
    return (f"{catalog:9s} {label:5s} {r['writers']:2d} writers  {r['commits']:5d} commits  {r['wall']:7.1f} s  "
            f"{r['rate']:6.1f} commits/s  wait median {r['median'] * 1000:6.0f} ms  worst {r['worst']:6.2f} s  "
            f"open {r['open']:5.2f} s  failed writers {r['failed']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", default="1,2,4,8")
    parser.add_argument("--count", type=int, default=250)
    parser.add_argument("--catalogs", default="embedded,team")
    parser.add_argument("--peer", action="store_true", help="also run without turn-taking")
    parser.add_argument("--peer-cache", action="store_true", help="also run without the catalog cache")
    parser.add_argument("--floor", action="store_true",
                        help="also time the same number of commits into bare DuckLake tables of our schema")
    parser.add_argument("--pg", default=None)
    args = parser.parse_args()
    counts = [int(n) for n in args.writers.split(",")]
    servers: list = []
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    try:
        with tempfile.TemporaryDirectory(prefix="exact-lab-writers-") as tmp:
            workdir = Path(tmp)
            for catalog in args.catalogs.split(","):
                for n in counts:
                    modes = [("ours", True, True)] + ([("peer", False, True)] if args.peer else []) \
                        + ([("peer", True, False)] if args.peer_cache else [])
                    results = {}
                    for label, turns, cache in modes:
                        if catalog == "team":
                            location = team_location(args.pg, servers)
                            args.pg = args.pg or location
                            data = str(workdir / f"data-{uuid.uuid4().hex[:6]}")
                        else:
                            location, data = workdir / f"p-{uuid.uuid4().hex[:6]}", None
                        results[label] = r = run(location, data, n, args.count, workdir, turns, cache)
                        print(line(catalog, label, r), flush=True)
                        for error in r["errors"][:2]:
                            print(f"    {label} writer failed: {error[:200]}")
                    if args.floor:
                        if catalog == "team":
                            location, data = team_location(args.pg, servers), str(workdir / f"data-{uuid.uuid4().hex[:6]}")
                        else:
                            location, data = workdir / f"f-{uuid.uuid4().hex[:6]}", None
                        f = floor(location, data, results["ours"]["commits"] or n * args.count)
                        print(f"{catalog:9s} floor    bare DuckLake, our tables, one process: {f['commits']:5d} commits  "
                              f"{f['wall']:7.1f} s  ({f['each'] * 1000:.0f} ms a commit); ours / floor "
                              f"{results['ours']['wall'] / f['wall']:.2f}x", flush=True)
                    if "peer" in results:
                        ours, peer = results["ours"], results["peer"]
                        print(f"    ratio peer/ours wall {peer['wall'] / ours['wall']:.2f}x, "
                              f"worst wait {peer['worst'] / ours['worst']:.2f}x")
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
