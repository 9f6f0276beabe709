"""Batches of patches from a ``PatchDataset``, read by forked worker processes into shared memory.

``PatchLoader(ds, batch_size=16, workers=2)`` (or ``ds.batches(...)``) yields
``(patches, targets)``: patches ``N x H x W x 3`` uint8, targets as ``collate_targets`` gives them,
in the order ``loader.order(epoch)`` names, whatever the number of workers.

Why not a ``multiprocessing.Pool`` returning patches: the parent unpickled every 192 KiB patch on
its one core, and 600 ready patches took as long to come back as the whole 0-worker read
(docs/datasets.md, "Measured"). Here the workers write pixels straight into a ring of batch
buffers in one anonymous shared mapping (``mmap(-1)``, made before the fork, so nothing is named
in /dev/shm and nothing can outlive the parent); a pipe carries only the batch number and the
targets. The parent copies each batch out (3 MiB for 16 x 256 px, ~1 ms) so the slot is free at
once and a batch stays valid as long as the consumer keeps it.

Batch ``b`` lives in slot ``b % slots`` (``workers * prefetch`` slots, so that many batches are
on order); with ``split="tiles"`` (default) each of its patches goes to the worker that owns
most of the tiles it reads (``affinity.py``), with ``"batches"`` the whole batch to worker
``b % workers``. Workers live for one pass (one ``iter()``): they fork from a
process whose slides are open (``dataset``'s fork hook) and fill their own tile caches. They
stop, and are reaped, when the pass ends, when the consumer breaks out early, raises, or drops
the iterator, and when ``close()`` is called.
"""

from __future__ import annotations

import mmap
import multiprocessing
import signal
import traceback
import weakref
from collections import Counter

import numpy as np

from ..errors import InvalidValueError, PatchLoaderError
from .affinity import TileAffinity

# "tiles": each batch split between the workers by the tiles its patches read (affinity.py);
# "batches": whole batches dealt to the workers in turn.
SPLITS = ("tiles", "batches")
# Patches planned at a time: their tiles wanted more than once by a worker are cached there on
# the first demand (600 patches, 2 workers, simulated: 177 tile reads instead of 242; in one
# process 129 instead of 182, measured 0.29-0.33 s CPU instead of 0.34-0.52).
PLAN_PATCHES = 1024
# A worker that does not stop within this after its pipe closes is terminated.
JOIN_SECONDS = 5.0
# How often a waiting parent checks that the worker it waits for is still alive.
POLL_SECONDS = 1.0


def collate_targets(kind: str, targets: list):
    """Classification: an int64 array of N labels; segmentation: an N x H x W array of masks;
    detection: the list of N ``{"boxes", "labels"}`` dicts (their lengths differ)."""
    if kind == "classification":
        return np.asarray(targets, dtype=np.int64).reshape(len(targets))
    if kind == "segmentation" and targets:
        return np.stack(targets)
    return list(targets)


class PatchLoader:
    """Batches of ``ds`` through ``workers`` forked processes (0: read in this process)."""

    def __init__(self, ds, batch_size: int = 16, workers: int = 0, shuffle: bool = False, seed=None,
                 drop_last: bool = False, prefetch: int = 2, split: str = "tiles"):
        if split not in SPLITS:
            raise InvalidValueError(f"split {split!r}; expected one of {', '.join(SPLITS)}")
        for name, value, least in (("batch_size", batch_size, 1), ("workers", workers, 0), ("prefetch", prefetch, 1)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
                raise InvalidValueError(f"{name} must be an int >= {least}, got {value!r}")
        if workers and "fork" not in multiprocessing.get_all_start_methods():
            raise InvalidValueError("workers > 0 need the fork start method (not available here); use workers=0")
        self.ds = ds
        self.batch_size = int(batch_size)
        self.workers = int(workers)
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.drop_last = bool(drop_last)
        self.prefetch = int(prefetch)
        self.split = split
        self.epoch = 0
        self._passes: list[_Pass] = []

    def order(self, epoch: int = 0) -> np.ndarray:
        """The dataset indices of pass ``epoch``, in delivery order: 0..n-1, or with ``shuffle`` a
        permutation drawn from ``(seed, epoch)`` (a fresh one each pass when ``seed`` is None)."""
        n = len(self.ds)
        if not self.shuffle:
            return np.arange(n)
        rng = np.random.default_rng(None if self.seed is None else [int(self.seed), int(epoch)])
        return rng.permutation(n)

    def __len__(self) -> int:
        n = len(self.ds)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        order = self.order(self.epoch)
        self.epoch += 1
        groups = [order[start:start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        if self.drop_last and groups and len(groups[-1]) < self.batch_size:
            groups.pop()
        if self.workers == 0:
            return self._in_process(groups)
        one = _Pass(self.ds, groups, self.batch_size, self.workers, self.prefetch, self.split)
        self._passes = [p for p in self._passes if not p.closed] + [one]
        return one

    def _in_process(self, groups):
        planned = 0
        for b, indices in enumerate(groups):
            if b == planned:  # the tiles the next window reads more than once: cached at first demand
                window = groups[b:b + max(1, PLAN_PATCHES // self.batch_size)]
                planned += len(window)
                counts = Counter(tile for group in window for i in group for tile in self.ds.patch_tiles(int(i)))
                self.ds.expect_tiles([tile for tile, count in counts.items() if count > 1])
            patches = np.empty((len(indices), self.ds.patch_size, self.ds.patch_size, 3), np.uint8)
            yield patches, collate_targets(self.ds.kind, self.ds.read_into(indices, patches))

    def close(self) -> None:
        """Stop the workers of every pass still running and release their shared memory."""
        for one in self._passes:
            one.close()
        self._passes = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Pass:
    """One pass over the batches: its workers, its ring of slots, and the batches on order."""

    def __init__(self, ds, groups, batch_size, workers, prefetch, split):
        self.ds = ds
        self.groups = groups
        self.closed = False
        self.exitcodes: list[int] = []
        self._conns: list = []
        size = ds.patch_size
        self.slots = max(1, min(workers * prefetch, len(groups)))
        self._shape = (self.slots, batch_size, size, size, 3)
        self._mapping = mmap.mmap(-1, max(1, int(np.prod(self._shape))))
        self._ring = np.frombuffer(self._mapping, np.uint8).reshape(self._shape)
        self.workers = max(1, min(workers, len(groups)))
        context = multiprocessing.get_context("fork")
        pipes = [context.Pipe() for _ in range(self.workers)]
        self._conns = [parent for parent, _ in pipes]
        self._processes = []
        # a worker closes every pipe end but its own, this pass's and other live passes' alike:
        # one held open by a stranger keeps that pass's workers from seeing it close
        elsewhere = [c for other in _LIVE_PASSES for c in other._conns]
        _LIVE_PASSES.add(self)
        for k, (_, child) in enumerate(pipes):
            others = [c for j, pair in enumerate(pipes) if j != k for c in pair] + [pipes[k][0]] + elsewhere
            process = context.Process(target=_serve, args=(ds, self._ring, child, others), daemon=True,
                                      name=f"exact-lab-loader-{k}")
            process.start()
            self._processes.append(process)
        self.pids = [p.pid for p in self._processes]  # kept: a closed Process no longer tells
        for _, child in pipes:
            child.close()  # the worker holds its end: when it dies, recv here sees EOF
        self._affinity = TileAffinity(self.workers, max(1, batch_size // 2)) if split == "tiles" else None
        self._parts: dict[int, list[int]] = {}  # batch -> the workers reading a part of it
        self._owners: dict[int, list[int]] = {}  # batch planned, not yet sent -> each patch's worker
        self._next = 0  # the batch to yield next
        self._sent = 0  # batches ordered so far
        for _ in range(self.slots):
            self._order_one()

    def _order_one(self) -> None:
        """Send the next batch's parts to their workers (nothing to a worker without a part)."""
        if self._sent >= len(self.groups):
            return
        b = self._sent
        indices = self.groups[b]
        if self._affinity is None:
            owners = [b % self.workers] * len(indices)
        else:
            if b not in self._owners:
                self._plan(b)
            owners = self._owners.pop(b)
        parts = []
        for k in range(self.workers):
            rows = [r for r, owner in enumerate(owners) if owner == k]
            if rows:
                self._send(k, (b, b % self.slots, rows, indices[rows]))
                parts.append(k)
        self._parts[b] = parts
        self._sent += 1

    def _plan(self, first: int) -> None:
        """Assign the patches of a window of batches from ``first`` to workers by their tiles, and
        tell each worker the tiles it will read more than once in that window."""
        wanted = [Counter() for _ in range(self.workers)]
        last, count = first, 0
        while last < len(self.groups) and (last == first or count < PLAN_PATCHES):
            count += len(self.groups[last])
            last += 1
        tiles = {b: [self.ds.patch_tiles(int(i)) for i in self.groups[b]] for b in range(first, last)}
        for b in range(first, last):
            owners = []
            for patch_tiles in tiles[b]:
                owner = self._affinity.assign(patch_tiles)
                wanted[owner].update(patch_tiles)
                owners.append(owner)
            self._owners[b] = owners
        for k, counts in enumerate(wanted):
            again = [tile for tile, count in counts.items() if count > 1]
            if again:
                self._send(k, ("expect", again))

    def _send(self, k: int, message) -> None:
        try:
            self._conns[k].send(message)
        except OSError:  # it died; the batch it was reading says how when it is due
            pass

    def __iter__(self):
        return self

    def __next__(self):
        if self.closed or self._next >= len(self.groups):
            self.close()
            raise StopIteration
        try:
            b = self._next
            targets = [None] * len(self.groups[b])
            for k in self._parts.pop(b):
                done, rows, error, part = self._receive(k, b)
                if error is not None:
                    raise PatchLoaderError(error)
                if done != b:
                    raise PatchLoaderError(f"worker {k} sent batch {done} when batch {b} was due")
                for row, target in zip(rows, part):
                    targets[row] = target
            patches = self._ring[b % self.slots, :len(targets)].copy()
            self._next += 1
            self._order_one()  # the slot is free again
            return patches, collate_targets(self.ds.kind, targets)
        except BaseException:
            self.close()
            raise

    def _receive(self, k: int, b: int):
        conn, process = self._conns[k], self._processes[k]
        while not conn.poll(POLL_SECONDS):
            if not process.is_alive():
                break
        try:
            return conn.recv()
        except (EOFError, OSError):  # a dead worker's pipe: end of file, or reset with bytes unread
            process.join(JOIN_SECONDS)
            raise PatchLoaderError(f"loader worker {k} (pid {process.pid}) died with exit code {process.exitcode} "
                                   f"while reading batch {b} (patches {self.groups[b][:4].tolist()}...)") from None

    def close(self) -> None:
        """Stop the workers (their pipes close: each ends its batch and exits), reap them, and
        unmap the ring."""
        if self.closed:
            return
        self.closed = True
        for conn in self._conns:
            conn.close()
        for process in self._processes:
            process.join(JOIN_SECONDS)
            if process.exitcode is None:
                process.terminate()
                process.join()
        self.exitcodes = [p.exitcode for p in self._processes]  # 0: stopped on its own; -15: terminated
        for process in self._processes:
            process.close()
        del self._ring
        self._mapping.close()

    def __del__(self):
        if not getattr(self, "closed", True):
            self.close()


_LIVE_PASSES: weakref.WeakSet = weakref.WeakSet()


def _serve(ds, ring, conn, others) -> None:
    """A worker: read each batch ordered on ``conn`` into its ring slot, answer with the targets;
    stop when the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle; it stops us
    for other in others:
        other.close()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "expect":
            ds.expect_tiles(message[1])
            continue
        b, slot, rows, indices = message
        try:
            message = (b, rows, None, ds.read_into(indices, ring[slot], rows))
        except Exception as exc:
            message = (b, rows, f"batch {b}: {exc}\n{traceback.format_exc()}", None)
        try:
            conn.send(message)
        except (BrokenPipeError, OSError):
            return
