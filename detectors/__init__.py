"""Detectors: find regions to remove in images (pages and frames)."""
