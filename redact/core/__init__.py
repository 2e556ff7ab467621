"""The bottom layer: the types every detector, fill, pipeline and the API share. It imports nothing above it.

``regions`` (regions and masks), ``settings``, ``errors`` (each error with its exit code), ``device``,
``console``, ``words`` (words on a page), ``outcome`` (what a pipeline returns), ``images`` (small image helpers)
and ``registry`` (detectors and fills by name).
"""
