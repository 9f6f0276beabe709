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

    def map_of(self, image):
        """The map object of ``image`` if it is a virtual slide made here (annotation, density or
        cluster map), else None: how a viewer knows it shows a map."""
        from .maps import find_map

        return find_map(self, image)

    def density_map(self, types=None, score: str = "score", bins=10, image_set=None, version=None, patch_size=None,
                    context: float = 0.15, bin_columns: int | None = None, user: str | None = None, **options):
        """Patches ordered by ``score`` (an annotation column or a key of their meta) on the x
        axis, ``bins`` (a count or a list of edges) side by side, each stacked from the bottom up
        ``bin_columns`` wide; bin ranges, counts and the score's name are drawn below. Returns a
        ``DensityMap``; its edits flow back like an annotation map's. Annotations without a score
        are left out (``params["unscored"]`` in the image's meta counts them). Options: ``image=``,
        ``value_range=(lo, hi)``, ``label_format=``, ``gap=``, ``compression=``, ``workers=``."""
        from .density_map import density_map

        return density_map(self, types, score, bins, image_set, version, patch_size, context, bin_columns, user, **options)

    def features(self, annotations, model=None, patch_size=64, batch_size: int = 64, **options):
        """Returns an N x D float32 array, one row per annotation (a frame of ``annotations()`` or uuids),
        in their order. ``model``: None for the classic colour and texture features, or a callable
        (or an object with ``transform`` / ``predict``) mapping N x H x W x 3 uint8 patches of
        ``patch_size`` to N x D. Cached per annotation, model name and version (``name=``,
        ``version=`` or the model's attributes); see ``exact_lab.analysis.features`` for what
        invalidates the cache. Options: ``context=``, ``cache=``, ``workers=``."""
        from .features import features

        return features(self, annotations, model, patch_size, batch_size, **options)

    def cluster_map(self, annotations, features=None, method: str = "umap", **options):
        """Patches of ``annotations`` placed by their ``features`` (computed with ``features()`` if
        not given) embedded in 2-D by ``method`` ("pca", "tsne", "umap"), each on its own grid cell
        as close to its embedded position as the grid allows. Returns a ``ClusterMap``
        (``image_id``, ``mapping``, ``embedding``, ``relabel(type, box=/polygon=/uuids=)``).
        Options: ``embedding=`` (skip the embedding), ``model=`` and ``feature_patch=`` for the
        features, ``patch_size=``, ``context=``, ``slack=`` (spare cells), ``seed=``, ``gap=``, and
        keyword arguments of the embedding (e.g. ``n_neighbors=``)."""
        from .cluster_map import cluster_map

        return cluster_map(self, annotations, features, method, **options)

    def infer(self, model, image=None, image_set=None, region=None, tile_size=None, overlap: int = 64, level=None,
              mpp=None, batch_size: int = 16, kind: str = "detection", name=None, version=None, client=None, **options):
        """Run ``model`` over the tiles of ``image`` (or each image of ``image_set``, or a level-0
        ``region=(x0, y0, x1, y1)`` of one image) and write what it finds as proposals:
        annotations with ``score`` and ``source = "<name>:<version>"``, verdicts to come.

        The model is called with N x H x W x 3 uint8 tiles (or has ``predict``) and returns, for
        ``kind="detection"``, N tables with ``xmin ymin xmax ymax`` (tile pixels) or ``geometry``,
        ``score`` and optionally ``type``; for ``"segmentation"`` N x H x W class masks (0 =
        background); for ``"classification"`` N x C probabilities (one proposal per tile, with
        ``uncertainty``, ``margin``, ``entropy`` and ``probabilities`` in meta). It may declare
        ``tile_size``, ``mpp``, ``name``, ``version``, ``type`` and ``classes``. Tiles overlap by
        ``overlap`` pixels; duplicates there are merged. ``client``: a Dask distributed client to
        spread tiles over its workers. Ctrl-C keeps and writes what finished. Options: ``type=``
        (default type), ``classes=``, ``progress=``, ``readers=`` (reading threads),
        ``model_workers=`` (batches through the model at once, in threads, the BLAS threads shared
        among them; default the model's ``workers`` attribute, else one per core up to 2: a model
        that is not thread-safe declares ``workers = 1``), ``iou=``.
        Returns an ``InferenceRun``."""
        from .infer import infer

        return infer(self, model, image, image_set, region, tile_size, overlap, level, mpp, batch_size, kind, name,
                     version, client, **options)

    def classify(self, annotations, model, features=None, **options):
        """Label ``annotations`` with a fitted classifier (``predict_proba`` and ``classes_``, class
        names = annotation types) over their ``features`` (computed if not given): each gets the
        likeliest type, ``score``, ``source = "<name>:<version>"`` and ``uncertainty``, ``margin``,
        ``entropy``, ``probabilities`` in meta. Returns uuid, type, score, uncertainty, least
        certain first (the order to review them in). Options: ``name=``, ``version=``,
        ``feature_model=``, ``patch_size=``, ``write=False`` to only predict."""
        from .classify import classify

        return classify(self, annotations, model, features, **options)
