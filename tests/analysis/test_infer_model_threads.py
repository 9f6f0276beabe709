"""A model without a ``workers`` attribute runs two batches at once, one BLAS thread each, and
gives exactly what one batch at a time gives."""

from __future__ import annotations

import os
import threading

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

import exact_lab as xl


class DarkSpots:
    """A 1 x 1 convolution through BLAS (matrix products) and a threshold: boxes around dark pixels."""

    name, version = "darkspots", "1"

    def __init__(self):
        rng = np.random.default_rng(0)
        self.w1 = rng.normal(size=(3, 8)).astype(np.float32) / 255
        self.w2 = rng.normal(size=(8, 1)).astype(np.float32)
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.blas_threads: set[int] = set()

    def __call__(self, batch):
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.blas_threads |= {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
        try:
            found = []
            for tile in batch:
                plane = (np.maximum(tile.reshape(-1, 3).astype(np.float32) @ self.w1, 0) @ self.w2).reshape(tile.shape[:2])
                ys, xs = np.nonzero(plane > np.quantile(plane, 0.999))
                found.append(pd.DataFrame({"xmin": xs[:5], "ymin": ys[:5], "xmax": xs[:5] + 4, "ymax": ys[:5] + 4,
                                           "score": 0.5}))
            threading.Event().wait(0.05)  # long enough for the other batch's call to overlap this one
            return found
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_slide):
    path, _ = demo_slide
    proj = xl.open_project(tmp_path_factory.mktemp("threads") / "project", user="alice")
    image_id = int(proj.add_images([path], image_set="demo")["image_id"].iloc[0])
    yield proj, image_id
    proj.close()


def boxes(run) -> list[tuple]:
    found = run.proposals()
    return sorted(map(tuple, found[["xmin", "ymin", "xmax", "ymax", "score"]].to_numpy().tolist()))


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: one batch at a time is the default")
def test_a_plain_callable_runs_two_batches_at_once_with_one_blas_thread_each_and_the_same_result(demo):
    proj, image_id = demo
    one, two = DarkSpots(), DarkSpots()
    alone = proj.infer(one, image=image_id, tile_size=512, overlap=64, batch_size=2, model_workers=1,
                       name="one-thread", progress=False)
    shared = proj.infer(two, image=image_id, tile_size=512, overlap=64, batch_size=2, name="two-threads", progress=False)
    assert one.most_at_once == 1 and two.most_at_once == 2
    assert two.blas_threads == {max(1, os.cpu_count() // 2)}
    assert boxes(shared) == boxes(alone) and len(boxes(alone)) > 0
    after = {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}
    assert after == one.blas_threads  # the run gives the BLAS threads back


@pytest.mark.parametrize("count, batch_size, workers", [(81, 16, 2), (64, 16, 2), (5, 16, 2), (1, 16, 2), (81, 16, 1),
                                                        (100, 7, 3), (3, 1, 2)])
def test_batches_are_balanced_so_the_last_round_keeps_every_worker_busy(count, batch_size, workers):
    from exact_lab.analysis.pipeline import balanced_batches

    ids = list(range(100, 100 + count))
    batches = balanced_batches(ids, batch_size, workers)
    assert [i for batch in batches for i in batch] == ids  # every tile once, in order
    sizes = [len(batch) for batch in batches]
    assert max(sizes) <= batch_size and min(sizes) >= 1
    assert max(sizes) - min(sizes) <= 1
    if workers > 1:  # no round where a worker has nothing to do, unless the batches are single tiles
        assert len(batches) % workers == 0 or len(batches) == count
    else:  # one worker: no more model calls than the batch size needs
        assert len(batches) == -(-count // batch_size)
    assert balanced_batches([], batch_size, workers) == []


def test_81_tiles_for_two_workers_are_six_batches_of_13_or_14():
    from exact_lab.analysis.pipeline import balanced_batches

    assert [len(b) for b in balanced_batches(list(range(81)), 16, 2)] == [14, 14, 14, 13, 13, 13]
