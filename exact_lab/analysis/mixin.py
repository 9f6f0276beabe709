"""The analysis room's part of ``Project``: maps, features, clustering and inference."""

from __future__ import annotations


class AnalysisMixin:
    def annotation_map(self, types=None, image_set=None, version=None, patch_size=None, context: float = 0.15,
                       columns: int | None = None, order_by=None, user: str | None = None, **options):
        """Crops of every annotation of ``types`` (in ``image_set``, at ``version``, made by ``user``)
        laid out in a grid (``columns``, default square) as a virtual slide; returns an
        ``AnnotationMap`` (``image_id``, ``mapping``, ``viewer()``, ``sync()``, ``apply_edits()``).

        A patch is the type's default size (else the annotations' own extent; or ``patch_size``) plus
        ``context`` around it; larger annotations are shrunk to fit. ``order_by``: annotation
        columns (default type, image, top, left). Options: ``image=``, ``gap=`` pixels between
        patches, ``compression=`` ("deflate" lossless, or "jpeg"), ``workers=`` reading threads.
        """
        from .annotation_map import annotation_map

        return annotation_map(self, types, image_set, version, patch_size, context, columns, order_by, user, **options)

    def open_map(self, image):
        """The map object (annotation, density or cluster map) of a virtual slide made earlier."""
        from .maps import open_map

        return open_map(self, image)
