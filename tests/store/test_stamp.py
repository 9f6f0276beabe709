"""Types and images are kept between commits until a snapshot touches them (store/stamp.py)."""

from __future__ import annotations

import pytest
from shapely.geometry import box

import exact_lab as xl
from exact_lab.errors import UnknownImageError, UnknownTypeError
from exact_lab.store.stamp import touched_tables


def test_change_lists_parse_into_table_ids_and_name_changes():
    assert touched_tables("inlined_insert:12,inlined_delete:12") == ({12}, False)
    assert touched_tables("inlined_insert:14,inserted_into_table:18") == ({14, 18}, False)
    assert touched_tables('created_table:"main"."zz"') == (set(), True)
    assert touched_tables('created_table:"main"."a,b",dropped_table:23') == ({23}, True)
    assert touched_tables(None) == (set(), False)
    # text we do not understand counts as a change of everything
    assert touched_tables("something new")[1] is True


def _add(proj, image_id, x, type_="cell"):
    return proj.add_annotations({"image_id": image_id, "type": type_, "geometry": box(x, 0, x + 5, 5)})


@pytest.fixture
def two(tmp_path, small_svs):
    """Two open projects on one folder (two writers), with a type and an image."""
    first = xl.open_project(tmp_path / "p", user="alice")
    first.add_annotation_type("cell", "box")
    image_id = int(first.add_images([small_svs])["image_id"].iloc[0])
    second = xl.open_project(tmp_path / "p", user="bob")
    yield first, second, image_id
    second.close()
    first.close()


def _cache_test(first, second, image_id, small_svs):
    _add(first, image_id, 0)
    reads = first._store.cache.reads
    for x in range(1, 6):
        _add(first, image_id, x)
        _add(second, image_id, x)  # another writer's annotations do not touch types or images
    assert first._store.cache.reads == reads, "single-row commits re-read types and images"

    second.add_annotation_type("mitosis", "box")  # another writer's new type is seen at once
    _add(first, image_id, 10, "mitosis")
    assert first._store.cache.reads == reads + 1
    new_image = int(second.add_images([small_svs], image_set="more")["image_id"].iloc[0])
    _add(first, new_image, 11)
    with pytest.raises(UnknownTypeError, match="row 0: unknown annotation type 'nope'"):
        _add(first, image_id, 12, "nope")
    with pytest.raises(UnknownImageError, match="row 0: no image 999"):
        _add(first, 999, 12)

    stored = first.annotations()
    assert len(stored) == 13
    assert set(stored["type"]) == {"cell", "mitosis"}


def test_cached_types_and_images_follow_other_writers(two, small_svs):
    _cache_test(*two, small_svs)


@pytest.mark.postgres
@pytest.mark.parametrize("reader", ["psycopg", "duckdb postgres_query"])
def test_cached_types_and_images_follow_other_writers_in_team_mode(team_catalog, small_svs, reader, monkeypatch):
    """The team catalog's stamp reads through psycopg; without psycopg, through DuckDB's
    postgres_query. Both must follow the other writer alike."""
    from exact_lab.store.stamp import CatalogStamp

    if reader != "psycopg":
        monkeypatch.setattr(CatalogStamp, "postgres", classmethod(lambda cls, location: None))
    url, data = team_catalog
    first = xl.open_project(url, data=data, user="alice")
    first.add_annotation_type("cell", "box")
    image_id = int(first.add_images([small_svs])["image_id"].iloc[0])
    second = xl.open_project(url, data=data, user="bob")
    try:
        _cache_test(first, second, image_id, small_svs)
    finally:
        second.close()
        first.close()


def test_session_edits_use_the_kept_lookup(project, small_svs):
    project.add_annotation_type("cell", "box")
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    uuid = _add(project, image_id, 0)[0]
    reads = project._store.cache.reads
    for x in range(5):
        project.session.add({"image_id": image_id, "type": "cell", "geometry": box(x, 9, x + 1, 10)})
        project.session.update(uuid, geometry=box(x, 0, x + 2, 2))
        project.flush()
    assert project._store.cache.reads == reads
    assert len(project.annotations()) == 6
