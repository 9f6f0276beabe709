"""The project's tables in DuckLake (DESIGN §3). Created on first open; ``SCHEMA_VERSION`` guards
against opening a project written by an incompatible release."""

from __future__ import annotations

SCHEMA_VERSION = 1

TABLES = {
    "project_info": "key VARCHAR, value VARCHAR",
    "teams": "team_id BIGINT, name VARCHAR, created_at TIMESTAMP",
    "users": "username VARCHAR, display_name VARCHAR, email VARCHAR, created_at TIMESTAMP",
    "memberships": "team_id BIGINT, username VARCHAR, role VARCHAR",
    "products": "product_id BIGINT, name VARCHAR, team_id BIGINT, description VARCHAR",
    "annotation_types": (
        "type_id BIGINT, name VARCHAR, vector_type VARCHAR, color VARCHAR, "
        "default_width DOUBLE, default_height DOUBLE, sort_order INTEGER, closed BOOLEAN, "
        "area_hit_test BOOLEAN, example_image BLOB, node_count INTEGER, product_id BIGINT, "
        "meta VARCHAR"
    ),
    "image_sets": (
        "image_set_id BIGINT, name VARCHAR, team_id BIGINT, mode VARCHAR, "
        "required_verifications INTEGER, description VARCHAR, pseudonymize BOOLEAN, created_at TIMESTAMP"
    ),
    "image_set_products": "image_set_id BIGINT, product_id BIGINT",
    # Virtual image sets: an image belongs to its own set (images.image_set_id) and may be a
    # member of any number of others (training splits), without being copied.
    "image_set_members": "image_set_id BIGINT, image_id BIGINT, added_by VARCHAR, added_at TIMESTAMP",
    "images": (
        "image_id BIGINT, image_set_id BIGINT, name VARCHAR, public_name VARCHAR, path VARCHAR, "
        "width BIGINT, height BIGINT, levels INTEGER, mpp DOUBLE, objective_power DOUBLE, "
        "frames INTEGER, checksum VARCHAR, vendor VARCHAR, source_format VARCHAR, "
        "added_by VARCHAR, added_at TIMESTAMP, pseudonymized BOOLEAN, placeholder BOOLEAN, meta VARCHAR"
    ),
    "annotations": (
        "uuid UUID, image_id BIGINT, type_id BIGINT, frame INTEGER, geometry BLOB, "
        "min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, "
        "creator VARCHAR, created_at TIMESTAMP, editor VARCHAR, updated_at TIMESTAMP, "
        "deleted BOOLEAN, concealed BOOLEAN, blurred BOOLEAN, description VARCHAR, "
        "score DOUBLE, source VARCHAR, meta VARCHAR"
    ),
    "verifications": "annotation_uuid UUID, username VARCHAR, verified BOOLEAN, verified_at TIMESTAMP",
    "media_files": (
        "media_id BIGINT, annotation_uuid UUID, kind VARCHAR, name VARCHAR, path VARCHAR, "
        "data BLOB, added_by VARCHAR, added_at TIMESTAMP"
    ),
    "screening_states": (
        "username VARCHAR, image_id BIGINT, tile_width INTEGER, tile_height INTEGER, zoom DOUBLE, "
        "overlap DOUBLE, grid_cols INTEGER, grid_rows INTEGER, visited VARCHAR, current_tile INTEGER, "
        "updated_at TIMESTAMP"
    ),
    # review: the tiles a screening covers (background left out), per user and image
    "screening_plans": "username VARCHAR, image_id BIGINT, tiles VARCHAR, skip_background BOOLEAN",
    # review: blind sets revealed by an admin, and annotations an admin shares as guides
    "image_set_reveals": "image_set_id BIGINT, revealed_by VARCHAR, revealed_at TIMESTAMP",
    "shared_guides": "annotation_uuid UUID, shared_by VARCHAR, shared_at TIMESTAMP",
    # who added, changed or removed a membership, and when
    "membership_log": "team_id BIGINT, username VARCHAR, role VARCHAR, action VARCHAR, changed_by VARCHAR, changed_at TIMESTAMP",
    "versions": (
        "name VARCHAR, snapshot_id BIGINT, message VARCHAR, author VARCHAR, created_at TIMESTAMP, "
        "image_ids BIGINT[]"
    ),
    "version_artifacts": (
        "version VARCHAR, name VARCHAR, path VARCHAR, size BIGINT, sha256 VARCHAR, "
        "added_by VARCHAR, added_at TIMESTAMP, meta VARCHAR"
    ),
    # Pixel labels (exact_lab/masks): zstd tiles of class indices; an unpainted tile has no row.
    "mask_tiles": (
        "image_id BIGINT, frame INTEGER, level INTEGER, tile_x INTEGER, tile_y INTEGER, data BLOB, "
        "editor VARCHAR, updated_at TIMESTAMP"
    ),
    "labelling_done": "username VARCHAR, image_id BIGINT, frame INTEGER, done_at TIMESTAMP",
}

# Annotation columns in table order; inserts name them (annotations.insert_table). The bounding
# box is stored as min_x .. max_y because PostgreSQL (a team catalog holding inlined rows)
# reserves xmin and xmax as system column names; the public DataFrames call them xmin .. ymax.
ANNOTATION_COLUMNS = [part.split()[0] for part in TABLES["annotations"].split(", ")]


def create_statements() -> list[str]:
    return [f"CREATE TABLE IF NOT EXISTS {name} ({columns})" for name, columns in TABLES.items()]
