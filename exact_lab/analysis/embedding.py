"""Features to two dimensions: PCA, t-SNE (scikit-learn) or UMAP (umap-learn), on standardised
features."""

from __future__ import annotations

import numpy as np

from ..errors import InvalidValueError

METHODS = ("pca", "tsne", "umap")


def embed(features: np.ndarray, method: str = "umap", *, seed: int = 0, **options) -> np.ndarray:
    """N x 2 positions for N x D features."""
    from sklearn.preprocessing import StandardScaler

    method = str(method).lower().replace("-", "")
    if method not in METHODS:
        raise InvalidValueError(f"embedding method {method!r}; expected one of {', '.join(METHODS)}")
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or len(features) < 3:
        raise InvalidValueError(f"an embedding needs at least 3 feature rows (N x D), got {features.shape}")
    x = StandardScaler().fit_transform(np.nan_to_num(features))
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed, **options).fit_transform(x)
    if method == "tsne":
        from sklearn.manifold import TSNE

        options.setdefault("perplexity", min(30.0, (len(x) - 1) / 3))
        return TSNE(n_components=2, init="pca", random_state=seed, **options).fit_transform(x)
    import umap

    options.setdefault("n_neighbors", min(15, len(x) - 1))
    options.setdefault("n_jobs", 1)  # a seed makes umap-learn single-threaded anyway (and warn if told otherwise)
    return umap.UMAP(n_components=2, random_state=seed, **options).fit_transform(x)
