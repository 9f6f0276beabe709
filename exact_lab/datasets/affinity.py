"""Which worker reads which patch: patches that share stored tiles go to the same worker, so
each worker's own tile cache keeps the reuse that one process would have.

Measured (CMU-1-Small-Region.svs, 600 random 256 px patches, 2 forked workers, CPU seconds per
worker): whole batches dealt in turn 0.63 and 0.57 s; the slide split in two halves by x 0.47
and 0.40 s (one process alone: 0.63 s). Split at random, every worker reads nearly every tile
once directly and once whole, and a tile is cached only on its second demand in that worker.
"""

from __future__ import annotations


class TileAffinity:
    """Greedy: a patch goes to the worker owning most of its tiles (a tile belongs to the first
    worker given a patch on it), unless that worker is ``slack`` patches ahead of the least
    loaded one, which then takes it. Cumulative loads so never differ by more than ``slack``,
    so a batch waits on no worker for long."""

    def __init__(self, workers: int, slack: int):
        self.workers = int(workers)
        self.slack = max(1, int(slack))
        self.loads = [0] * self.workers
        self._owner: dict = {}

    def assign(self, tiles: list) -> int:
        """The worker for a patch reading ``tiles`` (hashable keys); remembers the choice."""
        votes = [0] * self.workers
        for key in tiles:
            owner = self._owner.get(key)
            if owner is not None:
                votes[owner] += 1
        least = min(range(self.workers), key=self.loads.__getitem__)
        best = max(range(self.workers), key=lambda k: (votes[k], -self.loads[k]))
        chosen = least if votes[best] == 0 or self.loads[best] - self.loads[least] >= self.slack else best
        for key in tiles:
            self._owner.setdefault(key, chosen)
        self.loads[chosen] += 1
        return chosen
