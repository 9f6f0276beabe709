"""Measurements read off the view: field of view in mm², counts per type, per mm² and per 10
high-power fields, and the densest such area of an image."""
