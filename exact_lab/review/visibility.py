"""Who may see which annotations: collaboration modes and team membership, enforced in the
store's query layer (``AnnotationsMixin.annotation_query`` calls ``restrict_reads``), so
``annotations()``, the viewer, diff, history, exports and ``sql()`` all obey it.

- blind image set: a user who is not an admin of the set's team sees only their own annotations
  and the ones an admin shared as guides, until an admin reveals the set;
- a set owned by a team: a user who is not a member gets ``PermissionDeniedError`` from reads that
  name the set or one of its images; reads over everything leave the set's annotations out.

Kept until a snapshot touches the tables they come from (the store's CatalogCache): the rules
change only with such a commit, and writes check them on every commit (``check_write``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import PermissionDeniedError


@dataclass(frozen=True)
class Rules:
    user: str
    # image ids whose other users' annotations this user may not see (blind, not revealed)
    blind_images: tuple[int, ...]
    # image sets (and their images) of teams this user is not a member of
    closed_sets: dict
    closed_images: dict
    # the owning team's name of each closed set, and each closed image's set (errors name them)
    closed_teams: dict
    closed_image_sets: dict


RULE_TABLES = ("image_sets", "image_set_reveals", "memberships", "images", "teams")


def rules(project) -> Rules:
    user = project.user
    return project._store.cache.get(f"visibility:{user}", RULE_TABLES, lambda: _read_rules(project, user))


def _read_rules(project, user: str) -> Rules:
    with project._store.reading() as con:
        sets = con.execute(
            "SELECT s.image_set_id, s.name, s.mode, s.team_id, "
            "EXISTS (SELECT 1 FROM image_set_reveals r WHERE r.image_set_id = s.image_set_id) AS revealed, "
            "(SELECT max(m.role) FROM memberships m WHERE m.team_id = s.team_id AND m.username = ?) AS role, "
            "(SELECT t.name FROM teams t WHERE t.team_id = s.team_id) AS team "
            "FROM image_sets s", [user]).fetchall()
        images = con.execute("SELECT image_id, image_set_id FROM images").fetchall()
    blind, closed, teams = set(), {}, {}
    for set_id, name, mode, team_id, revealed, role, team in sets:
        # membership is enforced where the catalog is the team's server; in a folder project anyone
        # with the files could read them anyway (docs/review.md), and the demo is read by any user
        if team_id is not None and role is None and project._store.team:
            closed[int(set_id)] = name
            teams[int(set_id)] = team
        elif mode == "blind" and not revealed and role != "admin":
            blind.add(int(set_id))
    return Rules(
        user=user,
        blind_images=tuple(int(i) for i, s in images if s is not None and int(s) in blind),
        closed_sets=closed,
        closed_images={int(i): closed[int(s)] for i, s in images if s is not None and int(s) in closed},
        closed_teams=teams,
        closed_image_sets={int(i): int(s) for i, s in images if s is not None and int(s) in closed},
    )


def visible_term(found: Rules) -> tuple[str, list] | None:
    """One WHERE term over ``a.`` (with its parameters), or None when everything is visible."""
    terms, params = [], []
    if found.closed_images:
        terms.append("a.image_id NOT IN (SELECT unnest(?::BIGINT[]))")
        params.append(list(found.closed_images))
    if found.blind_images:
        terms.append("(a.image_id NOT IN (SELECT unnest(?::BIGINT[])) OR a.creator = ? "
                     "OR a.uuid IN (SELECT annotation_uuid FROM shared_guides))")
        params += [list(found.blind_images), found.user]
    if not terms:
        return None
    return " AND ".join(terms), params


def check_access(found: Rules, image_ids=(), image_set_id=None) -> None:
    """PermissionDeniedError for a read or write naming a set (or an image of a set) whose team the
    user is not a member of."""
    if image_set_id is not None and int(image_set_id) in found.closed_sets:
        name = found.closed_sets[int(image_set_id)]
        raise PermissionDeniedError(f"{found.user} is not a member of the team of image set {name!r}")
    for image_id in image_ids:
        if int(image_id) in found.closed_images:
            name = found.closed_images[int(image_id)]
            raise PermissionDeniedError(
                f"{found.user} is not a member of the team of image set {name!r} (image {image_id})")


def check_write(found: Rules, image_ids=(), image_set_id=None) -> None:
    """PermissionDeniedError naming the user, the set and its team for a write to an image (or
    to a set) of a team the user is not a member of."""
    closed_set = None
    if image_set_id is not None and int(image_set_id) in found.closed_sets:
        closed_set, what = int(image_set_id), "image set"
    else:
        image_ids = [int(i) for i in image_ids]
        hit = next((i for i in image_ids if i in found.closed_images), None)
        if hit is None:
            return
        closed_set = found.closed_image_sets[hit]
        what = f"image {hit}" if len(set(image_ids)) == 1 else f"image {hit} (and {len(set(image_ids)) - 1} more in this write)"
    raise PermissionDeniedError(
        f"{found.user} is not a member of team {found.closed_teams.get(closed_set)!r}, which owns image set "
        f"{found.closed_sets[closed_set]!r}: writes to {what} are refused (ask an admin of the team to "
        f"add {found.user} with proj.add_member)")


def restricted_cursor(project, found: Rules):
    """A cursor (its own connection to the same database) where ``annotations`` is a temporary
    view with the visibility predicate; the lake's other tables read as usual. Values are ours
    (integer ids, the user name quoted), so the view needs no parameters."""
    from ..store.connection import LAKE

    cursor = project._store.con.cursor()
    cursor.execute(f"USE {LAKE}")
    terms = []
    if found.closed_images:
        terms.append(f"a.image_id NOT IN ({', '.join(str(int(i)) for i in found.closed_images)})")
    if found.blind_images:
        user = found.user.replace("'", "''")
        terms.append(f"(a.image_id NOT IN ({', '.join(str(int(i)) for i in found.blind_images)}) "
                     f"OR a.creator = '{user}' OR a.uuid IN (SELECT annotation_uuid FROM {LAKE}.shared_guides))")
    cursor.execute(f"CREATE OR REPLACE TEMP VIEW annotations AS SELECT a.* FROM {LAKE}.annotations a "
                   f"WHERE {' AND '.join(terms)}")
    return cursor
