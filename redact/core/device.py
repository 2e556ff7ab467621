"""Choosing the torch device (``--device auto|cpu|cuda``)."""
from __future__ import annotations

from redact.core.errors import UsageError


def resolve_device(name: str = "auto") -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but no CUDA device is available")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise UsageError(f"unknown device {name!r}; use auto, cpu or cuda")
    return name
