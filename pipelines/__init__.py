"""Pipelines: directory, image, PDF and video jobs over pages and frames."""
