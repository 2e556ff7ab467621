"""The TOML config file (``--config redact.toml``): what the command-line options hold, so a cron line is short.

Keys are the option names with ``_`` or ``-`` (``log_json`` or ``log-json``): every ``Settings`` field (``detect``,
``style``, ``pad``, ``face_threshold``, ...), plus ``inputs`` (a list of folders or files), ``output``,
``audit``, ``log_json``, ``force`` and ``cluster``. Options given on the command line override the file. Example::

    inputs = ["/srv/scans", "/srv/videos"]
    output = "/srv/redacted"
    detect = ["faces", "names", "pii"]
    style = "box"
    audit = "/var/log/redact/audit.jsonl"
"""
from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from redact.core.errors import UsageError
from redact.core.settings import Settings, parse_detect

RUN_KEYS = {"inputs": "list", "output": "str", "audit": "str", "log_json": "bool", "force": "bool", "cluster": "str"}


def _type_of(annotation: str) -> str:
    """The TOML shape a Settings field takes, from its annotation."""
    base = annotation.replace(" | None", "").strip()
    if base.startswith("tuple"):
        return "list"
    return {"float": "float", "int": "int", "bool": "bool", "str": "str"}.get(base, "str")


def _check(key: str, value, kind: str, where: str):
    ok = {
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
    }[kind]
    if not ok:
        shape = {"list": "a list of strings", "float": "a number", "int": "an integer", "bool": "true or false",
                 "str": "a string"}[kind]
        raise UsageError(f"{where}: '{key}' must be {shape}, not {value!r}")
    if kind == "list":
        return tuple(value)
    if kind == "float":
        return float(value)
    return value


def load_config(path: Path) -> tuple[Settings, dict]:
    """(settings from the file over the defaults, the run keys: inputs, output, audit, log_json, force, cluster)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read config: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc
    kinds = {f.name: _type_of(str(f.type)) for f in fields(Settings)}
    settings, run = Settings(), {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key == "detect":
            names = ",".join(value) if isinstance(value, list) else value
            if not isinstance(names, str):
                raise UsageError(f"{path}: 'detect' must be a list of detector names or a comma-separated string")
            try:
                settings.detect = parse_detect(names)
            except UsageError as exc:
                raise UsageError(f"{path}: {exc}") from exc
        elif key in kinds:
            setattr(settings, key, _check(raw_key, value, kinds[key], str(path)))
        elif key in RUN_KEYS:
            run[key] = _check(raw_key, value, RUN_KEYS[key], str(path))
        else:
            known = ", ".join(sorted(set(kinds) | set(RUN_KEYS)))
            raise UsageError(f"{path}: unknown key '{raw_key}' (known keys: {known})")
    if "inputs" in run:
        run["inputs"] = [Path(p) for p in run["inputs"]]
    for key in ("output", "audit"):
        if key in run:
            run[key] = Path(run[key])
    return settings, run
