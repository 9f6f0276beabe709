"""A separate process that writes many edits into one project (used by test_concurrency)."""

from __future__ import annotations

import json
import sys
import time

import shapely


def main(location: str, data: str, user: str, image_id: int, rounds: int, per_round: int, out: str) -> None:
    import exact_lab as xl

    proj = xl.open_project(location, data=data or None, user=user)
    proj.session.interval = 0.05  # commit often: as many concurrent snapshots as possible
    made = []
    for r in range(rounds):
        x = 100 * r
        rows = [{"image_id": image_id, "type": "cell",
                 "geometry": shapely.box(x + i, len(user) + i, x + i + 10, len(user) + i + 10),
                 "description": f"{user}-{r}-{i}"} for i in range(per_round)]
        if r % 2:
            made += proj.session.add(rows)        # buffered interactive path
        else:
            made += proj.add_annotations(rows)    # direct bulk path
        # move the first annotation of this round: an update that must survive too
        proj.session.update(made[-per_round], geometry=shapely.box(x, 0, x + 5, 5), description=f"{user}-{r}-moved")
    proj.flush()
    proj.close()
    with open(out, "w") as handle:
        json.dump(made, handle)


def single_rows(location: str, data: str, user: str, image_id: int, count: int, every: int, out: str) -> None:
    """``count`` calls of add_annotations with ONE row each (a common way to write a script); every
    ``every``-th row is then moved through the session. Records how long each call took."""
    import exact_lab as xl

    start = time.perf_counter()
    proj = xl.open_project(location, data=data or None, user=user)
    opened = time.perf_counter() - start
    made, moved, waits = [], {}, []
    for i in range(count):
        row = {"image_id": image_id, "type": "cell", "geometry": shapely.box(i, 0, i + 10, 10),
               "description": f"{user}-{i}"}
        t = time.perf_counter()
        made += proj.add_annotations(row)
        waits.append(time.perf_counter() - t)
        if i % every == every - 1:
            target = made[i - every // 2]
            proj.session.update(target, geometry=shapely.box(i, 50, i + 7, 57), description=f"{user}-{i}-moved")
            moved[target] = i
    proj.flush()
    proj.close()
    with open(out, "w") as handle:
        json.dump({"made": made, "moved": moved, "waits": waits, "open": opened,
                   "total": time.perf_counter() - start}, handle)


def until_killed(location: str, run: str, image_id: int, seed: int, wait_for_go: bool = False) -> None:
    """Commit batches until killed (test_faults' SIGKILL test): batch ``b`` adds rows described
    ``run:b:size:i``; every third batch instead moves all rows of an earlier batch by 1000 px.
    Says ``begin`` / ``done`` on stdout around each commit."""
    import random

    import exact_lab as xl

    rng = random.Random(seed)
    if wait_for_go:  # started ahead, imports done: open the project when told
        sys.stdin.readline()
    proj = xl.open_project(location, user=f"killed-{run}")
    added: list[list[str]] = []
    for b in range(10_000):
        if b % 3 == 2 and added:
            target = rng.randrange(len(added))
            print(f"begin move {run}:{target}", flush=True)
            proj.update_annotations([{"uuid": u, "geometry": shapely.box(1000 + k, 1000, 1005 + k, 1005),
                                      "description": f"{run}:{target}:moved"} for k, u in enumerate(added[target])])
            print(f"done move {run}:{target}", flush=True)
            continue
        size = rng.choice([1, 3, 40, 1500])  # 1500 rows: above the inlining limit, a Parquet file
        rows = [{"image_id": image_id, "type": "cell", "geometry": shapely.box(i, b, i + 5, b + 5),
                 "description": f"{run}:{len(added)}:{size}:{i}"} for i in range(size)]
        print(f"begin add {run}:{len(added)}", flush=True)
        added.append(proj.add_annotations(rows))
        print(f"done add {run}:{len(added) - 1}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "until-killed":
        location, run, image_id, seed = sys.argv[2:6]
        until_killed(location, run, int(image_id), int(seed), wait_for_go=sys.argv[6:] == ["--wait"])
        sys.exit(0)
    if sys.argv[1] == "single":
        location, data, user, image_id, count, every, out = sys.argv[2:]
        single_rows(location, data, user, int(image_id), int(count), int(every), out)
    else:
        location, data, user, image_id, rounds, per_round, out = sys.argv[1:]
        main(location, data, user, int(image_id), int(rounds), int(per_round), out)
