"""The tile engine: a byte-bounded LRU, correct tiles from many threads (each decoded once), and
the comm fallback's request ids with cancellation and timeouts."""

from __future__ import annotations

import random
import threading
import time

import pytest

from exact_lab.slides import open_slide
from exact_lab.slides.engine import TileCache, TileEngine, TileKey


def key(n: int) -> TileKey:
    return TileKey("hash", 10, n, 0, 0, "jpeg", None, None)


def test_cache_stays_within_its_byte_budget_and_drops_the_least_recent():
    cache = TileCache(max_bytes=10_000)
    sizes = {}
    rng = random.Random(1)
    for n in range(200):
        data = bytes(rng.randint(100, 1500))
        sizes[n] = len(data)
        cache.put(key(n), data)
        assert cache.size_bytes <= 10_000
        if n % 7 == 0:  # a read makes an old entry recent again
            cache.get(key(rng.randint(0, n)))
    assert cache.size_bytes == sum(len(cache._items[k]) for k in cache._items)
    # the newest entries are there, in order, and fill the budget as far as the next one would go
    kept = [k.col for k in cache._items]
    assert kept[-1] == 199
    assert cache.size_bytes + sizes[min(kept) - 1] > 10_000 or min(kept) == 0


def test_cache_recency_and_oversized_entries():
    cache = TileCache(max_bytes=3000)
    for n in range(3):
        cache.put(key(n), bytes(1000))
    assert cache.get(key(0)) is not None  # 0 is now the most recent
    cache.put(key(3), bytes(1000))
    assert cache.get(key(1)) is None and cache.get(key(0)) is not None
    cache.put(key(9), bytes(5000))  # bigger than the whole budget: not kept, nothing evicted
    assert cache.get(key(9)) is None and len(cache) == 3
    cache.put(key(0), bytes(10))  # replacing an entry accounts for its new size
    assert cache.size_bytes == 2010
    assert cache.hits >= 2 and cache.misses >= 2
    cache.clear()
    assert len(cache) == 0 and cache.size_bytes == 0


@pytest.fixture
def small_slide(small_svs):
    return open_slide(small_svs)


def all_tiles(slide, levels):
    layout = slide.deepzoom()
    return [(lv, c, r) for lv in levels for c in range(layout.tile_counts(lv)[0]) for r in range(layout.tile_counts(lv)[1])]


def test_concurrent_get_tile_is_correct_and_decodes_each_tile_once(small_slide, monkeypatch):
    layout = small_slide.deepzoom()
    tiles = all_tiles(small_slide, [layout.level_count - 1, layout.level_count - 3])
    expected = {t: small_slide.tile(*t) for t in tiles}
    engine = TileEngine(cache_bytes=64 << 20, workers=4)
    decoded: dict = {}
    lock = threading.Lock()
    real_tile = type(small_slide).tile

    def counting_tile(self, level, col, row, **kw):
        with lock:
            decoded[(level, col, row)] = decoded.get((level, col, row), 0) + 1
        time.sleep(0.002)  # widen the window in which other threads ask for the same tile
        return real_tile(self, level, col, row, **kw)

    monkeypatch.setattr(type(small_slide), "tile", counting_tile)
    errors = []
    start = threading.Barrier(12)

    def client(seed):
        order = tiles * 2
        random.Random(seed).shuffle(order)
        start.wait()
        for t in order:
            data = engine.get_tile(small_slide.path, *t)
            if data != expected[t]:
                errors.append(t)

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert decoded == {t: 1 for t in tiles}, "each tile decoded once, however many threads ask"
    assert engine.cache.hits > 0


def test_tile_out_of_range_and_bad_format(small_slide):
    engine = TileEngine(workers=2)
    layout = small_slide.deepzoom()
    top = layout.level_count - 1
    cols, rows = layout.tile_counts(top)
    for bad in [(top + 1, 0, 0), (top, cols, 0), (top, 0, rows), (-1, 0, 0)]:
        with pytest.raises(IndexError):
            engine.get_tile(small_slide.path, *bad)
    with pytest.raises(IndexError):
        engine.get_tile(small_slide.path, top, 0, 0, frame=1)
    with pytest.raises(ValueError):
        engine.get_tile(small_slide.path, top, 0, 0, fmt="gif")
    assert len(engine.cache) == 0


class Replies:
    def __init__(self):
        self.calls = []
        self.event = threading.Event()

    def __call__(self, request_id, data, error):
        self.calls.append((request_id, data, error))
        self.event.set()


def blocked_engine():
    """An engine whose only worker is busy until the returned event is set."""
    engine = TileEngine(workers=1)
    release = threading.Event()
    engine.pool.submit(release.wait)
    return engine, release


def test_request_answers_once_with_the_tile(small_slide):
    engine = TileEngine(workers=2)
    replies = Replies()
    top = small_slide.deepzoom().level_count - 1
    engine.request(7, small_slide.path, top, 1, 2, 0, "png", replies, timeout=10)
    assert replies.event.wait(10)
    time.sleep(0.05)
    assert replies.calls == [(7, small_slide.tile(top, 1, 2, format="png"), None)]
    assert engine.pending() == 0


def test_request_errors_are_reported_not_raised(small_slide):
    engine = TileEngine(workers=2)
    replies = Replies()
    engine.request("r1", small_slide.path, 99, 0, 0, 0, "jpeg", replies, timeout=10)
    assert replies.event.wait(10)
    (request_id, data, error), = replies.calls
    assert request_id == "r1" and data is None and error.startswith("IndexError")


def test_cancelled_request_never_answers(small_slide):
    engine, release = blocked_engine()
    replies = Replies()
    top = small_slide.deepzoom().level_count - 1
    engine.request(1, small_slide.path, top, 0, 0, 0, "jpeg", replies, timeout=0.3)
    engine.request(2, small_slide.path, top, 1, 0, 0, "jpeg", replies, timeout=10)
    assert engine.pending() == 2
    assert engine.cancel(1) is True
    assert engine.cancel(1) is False, "cancelling twice is harmless"
    release.set()
    assert replies.event.wait(10)
    time.sleep(0.5)  # past request 1's timeout: a cancelled request does not time out either
    assert [c[0] for c in replies.calls] == [2]
    assert engine.pending() == 0


def test_request_times_out_while_queued_and_answers_only_once(small_slide):
    engine, release = blocked_engine()
    replies = Replies()
    top = small_slide.deepzoom().level_count - 1
    started = time.monotonic()
    engine.request(5, small_slide.path, top, 0, 0, 0, "jpeg", replies, timeout=0.2)
    assert replies.event.wait(5)
    assert 0.15 <= time.monotonic() - started < 2
    release.set()
    time.sleep(0.3)  # the queued work runs (or is skipped) after the timeout: no second answer
    assert replies.calls == [(5, None, "timed out after 0.2 s")]
    assert engine.pending() == 0


def test_many_requests_share_one_timer_thread(small_slide):
    engine = TileEngine(workers=2)
    replies = Replies()
    before = threading.active_count()
    top = small_slide.deepzoom().level_count - 1
    cols, rows = small_slide.deepzoom().tile_counts(top)
    ids = list(range(cols * rows))
    for i in ids:
        engine.request(i, small_slide.path, top, i % cols, i // cols, 0, "jpeg", replies, timeout=30)
    assert threading.active_count() <= before + 2 + 1  # two workers and one timer thread
    deadline = time.monotonic() + 30
    while len(replies.calls) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(c[0] for c in replies.calls) == ids
    assert all(c[2] is None for c in replies.calls)
