"""A separate process that writes many edits into one project (used by test_concurrency)."""

from __future__ import annotations

import json
import sys

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


if __name__ == "__main__":
    location, data, user, image_id, rounds, per_round, out = sys.argv[1:]
    main(location, data, user, int(image_id), int(rounds), int(per_round), out)
