"""Benchmark (a script, not a test): a cluster map of 20,000 patches. umap-learn's own time on the
features, against what the layout (grid assignment) and writing the map add, in the same run; and
the assignment's cost against a greedy snap's.

    python benchmarks/analysis_cluster.py [--patches 20000]

Goal: layout + map writing add at most 25 % to umap-learn's time. Numba compiles UMAP on its
first call in a process; a small warm-up fit runs first so neither side pays for that.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _analysis_common import demo_project, timed  # noqa: E402

from exact_lab.analysis import gridassign  # noqa: E402
from exact_lab.analysis.embedding import embed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proj, image_id, _, _ = demo_project(Path(tmp), boxes=args.patches, box_size=40)
        rows = proj.annotations(image=image_id)
        features, t_features = timed(lambda: proj.features(rows, patch_size=48))
        print(f"{len(rows)} patches; classic features {features.shape} in {t_features:.1f} s (not compared)")
        embed(features[:300], "umap")  # numba's compilation, for both sides
        xy, t_umap = timed(lambda: embed(features, "umap"))
        columns, grid_rows = gridassign.grid_shape(xy)
        cells, t_layout = timed(lambda: gridassign.assign(xy, columns, grid_rows))
        c, t_map = timed(lambda: proj.cluster_map(rows, embedding=xy))
        greedy, t_greedy = timed(lambda: gridassign.greedy_snap(xy, columns, grid_rows))
        units = gridassign.to_grid_units(xy, columns, grid_rows)
        ours, theirs = gridassign.cost(units, cells, columns), gridassign.cost(units, greedy, columns)
        print(f"umap-learn fit_transform:                 {t_umap:7.2f} s")
        print(f"grid assignment ({columns} x {grid_rows} cells):        {t_layout:7.2f} s")
        print(f"cluster_map from the embedding (layout + read, write, register, draw): {t_map:7.2f} s")
        print(f"added to umap: {t_map / t_umap:.1%} (goal <= 25 %)")
        print(f"assignment cost {ours:.0f} vs greedy snap {theirs:.0f} ({ours / theirs:.2f}x; greedy took {t_greedy:.1f} s)")
        assert len(c.mapping) == len(rows)
        proj.close()


if __name__ == "__main__":
    main()
