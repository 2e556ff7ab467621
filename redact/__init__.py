"""redact: find faces, names, personal data and logos in images, PDFs and videos, and remove them.

The library API (``redact_paths``, ``redact_file``, ``redact_with_masks``, ``redact_on_cluster``, ``Settings``,
``Report``, the typed errors) is imported on first use, so ``import redact.core`` from a detector does not load the job machinery.
"""
__version__ = "0.1.0"

__all__ = [
    "DETECTORS", "FILLS", "ExitCode", "InputError", "OutputLocked", "RedactError", "Report", "Settings", "UsageError",
    "__version__", "default_audit", "redact_file", "redact_on_cluster", "redact_paths", "redact_with_masks",
]

_WHERE = {
    "redact_paths": "redact.api", "redact_file": "redact.api", "redact_with_masks": "redact.api",
    "default_audit": "redact.api", "redact_on_cluster": "redact.cluster", "Report": "redact.job", "Settings": "redact.core.settings",
    "ExitCode": "redact.core.errors", "RedactError": "redact.core.errors", "InputError": "redact.core.errors",
    "UsageError": "redact.core.errors", "OutputLocked": "redact.core.errors", "DETECTORS": "redact.core.registry",
    "FILLS": "redact.core.registry",
}


def __getattr__(name: str):
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'redact' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
