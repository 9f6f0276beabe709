"""Building reads of the annotations table from parts: a source, WHERE terms and their parameters.

Every read of annotations that a user sees (``proj.annotations()``, the viewer's viewport query,
``count_annotations``, ``changes_since``, ``diff``, ``history``, exports, which read through
``proj.annotations()``) gets its query from ``AnnotationsMixin.annotation_query()``. That method
turns the public filters into an :class:`AnnotationQuery`; a read-side predicate every reader must
obey (a visibility filter such as blind review) is added there, once, with ``query.where(...)``,
and then holds for all of them.

The annotations relation is always aliased ``a``, so a term is written against ``a.<column>``
whatever the source: the live table, the table at a version, or DuckLake's change feed (whose
rows carry the same columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InvalidValueError

ALIAS = "a"

# The public DataFrame's columns that come straight from the annotations table, in order.
ROW_COLUMNS = (
    "a.uuid::VARCHAR AS uuid, a.image_id, a.type_id, a.geometry, a.frame, "
    "a.min_x AS xmin, a.min_y AS ymin, a.max_x AS xmax, a.max_y AS ymax, a.creator, a.created_at, "
    "a.editor, a.updated_at, a.deleted, a.concealed, a.blurred, a.description, a.score, a.source, a.meta"
)

# The same with image and type names joined in (for versions and relations, where the
# per-snapshot lookup of names does not apply).
NAMED_COLUMNS = (
    "a.uuid::VARCHAR AS uuid, a.image_id, i.name AS image, a.type_id, t.name AS type, "
    "t.vector_type, a.geometry, a.frame, a.min_x AS xmin, a.min_y AS ymin, a.max_x AS xmax, a.max_y AS ymax, "
    "a.creator, a.created_at, a.editor, a.updated_at, a.deleted, a.concealed, a.blurred, a.description, "
    "a.score, a.source, a.meta"
)


def at_version(snapshot: int | None) -> str:
    """The DuckLake time-travel clause for a snapshot id (empty for the current state)."""
    return "" if snapshot is None else f"AT (VERSION => {int(snapshot)})"


@dataclass
class AnnotationQuery:
    """A read of annotations: ``FROM <source> AS a`` plus WHERE terms joined by AND.

    ``source`` is the relation read (``annotations``, or a table function such as DuckLake's
    ``table_changes``); ``snapshot`` reads it (and the joined name tables) at that snapshot.
    Terms are SQL over ``a.<column>`` with ``?`` placeholders; their parameters are kept beside
    them in the same order, so terms can be added in any order and never need patching.
    """

    source: str = "annotations"
    snapshot: int | None = None
    terms: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)

    def where(self, term: str, *params) -> AnnotationQuery:
        """Add one condition (ANDed with the others); returns the query for chaining."""
        if term.count("?") != len(params):
            raise InvalidValueError(f"query term {term!r} has {term.count('?')} placeholders but {len(params)} parameters")
        self.terms.append(f"({term})")
        self.params.extend(params)
        return self

    @property
    def at(self) -> str:
        return at_version(self.snapshot) if self.source == "annotations" else ""

    def where_clause(self) -> str:
        return ("WHERE " + " AND ".join(self.terms)) if self.terms else ""

    def from_clause(self) -> str:
        return f"{self.source} AS {ALIAS} {self.at}".rstrip()

    def select(self, columns: str = "a.*", *, joins: str = "", order_by: str | None = None) -> tuple[str, list]:
        """``SELECT columns FROM source AS a [joins] WHERE …`` and its parameters (the joins'
        own conditions go in their ON, never in the WHERE terms)."""
        parts = [f"SELECT {columns} FROM {self.from_clause()}", joins, self.where_clause()]
        if order_by:
            parts.append(f"ORDER BY {order_by}")
        return " ".join(p for p in parts if p), list(self.params)

    def select_named(self) -> tuple[str, list]:
        """The public columns with image and type names joined in (at the same snapshot)."""
        at = at_version(self.snapshot)
        return self.select(NAMED_COLUMNS, joins=(
            f"LEFT JOIN annotation_types AS t {at} ON a.type_id = t.type_id "
            f"LEFT JOIN images AS i {at} ON a.image_id = i.image_id"))

    def count(self) -> tuple[str, list]:
        return self.select("count(*)")
