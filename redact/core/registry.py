"""Detectors and fills by name: name -> factory.

The built-in ones are named here as ``"module:attribute"`` strings, imported only when a job asks for them (so
this bottom layer imports nothing above it). Other packages add their own through the entry-point groups
``redact.detectors`` and ``redact.fills``, e.g. in their ``pyproject.toml``::

    [project.entry-points."redact.detectors"]
    plates = "myplates:PlateDetector"

Factories are called ``factory(settings, device)``: a detector factory returns an object with a ``name`` (its
key here) and ``detect(images, start_index) -> list[list[Region]]``; a fill factory returns an
``inpaint.base.Fill``. A detector factory that serves several names in one pass (the OCR of ``names`` and
``pii``) is registered under each and takes ``wanted`` too: ``factory(settings, device, wanted=("names", "pii"))``;
it says so with an attribute ``shared_pass = "<prefix>"``.
"""
from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Callable

from redact.core.errors import UsageError


class Registry:
    def __init__(self, what: str, group: str, builtins: dict[str, str]):
        self.what = what  # "detector" or "fill", for messages
        self.group = group
        self._builtins = dict(builtins)
        self._loaded: dict[str, Callable] = {}

    def _targets(self) -> dict[str, str | Callable]:
        targets: dict[str, str | Callable] = dict(self._builtins)
        for ep in entry_points(group=self.group):
            targets.setdefault(ep.name, ep)  # a built-in name cannot be taken over
        return targets

    def names(self) -> tuple[str, ...]:
        """Every registered name, built-ins first (reads package metadata; imports nothing)."""
        return tuple(self._targets())

    def check(self, names, where: str = "") -> None:
        """UsageError naming the unknown ones, and the choices."""
        known = self.names()
        bad = [n for n in names if n not in known]
        if bad:
            raise UsageError(f"{where}unknown {self.what}(s) {', '.join(bad)}; choose from {', '.join(known)}")

    def factory(self, name: str) -> Callable:
        """The factory registered under ``name`` (imported on first use)."""
        if name not in self._loaded:
            target = self._targets().get(name)
            if target is None:
                self.check([name])
            if isinstance(target, str):
                module, _, attr = target.partition(":")
                obj = import_module(module)
                for part in attr.split("."):
                    obj = getattr(obj, part)
                self._loaded[name] = obj
            else:
                self._loaded[name] = target.load()
        return self._loaded[name]


DETECTORS = Registry("detector", "redact.detectors", {
    "faces": "detectors.builtin:faces",
    "names": "detectors.builtin:text",
    "pii": "detectors.builtin:text",
    "logos": "detectors.builtin:logos",
})

FILLS = Registry("fill", "redact.fills", {
    "inpaint": "inpaint.fills:rfr_fill",
    "telea": "inpaint.fills:OpenCVFill.telea",
    "ns": "inpaint.fills:OpenCVFill.navier_stokes",
    "box": "inpaint.fills:BoxFill.from_settings",
    "blur": "inpaint.fills:BlurFill.from_settings",
    "pixelate": "inpaint.fills:PixelateFill.from_settings",
})
