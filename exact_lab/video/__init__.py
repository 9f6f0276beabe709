"""Annotating videos frame by frame: copying shapes to the next frame and boxes interpolated
between keyframes (as CVAT does)."""
