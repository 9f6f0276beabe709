"""From a version to a training run: virtual image sets and splits, patch datasets at a pinned
version, their manifests and exports."""
