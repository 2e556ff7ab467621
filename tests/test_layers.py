"""The layering contract (pyproject's [tool.importlinter]) and no import cycle between files."""
from __future__ import annotations

from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("redact", "detectors", "inpaint", "pipelines")


def test_layers_contract_is_kept():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_import_cycle_between_files():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            chain = graph.find_shortest_chain(importer=imported, imported=importer)
            if chain:
                cycles.append(" -> ".join((importer,) + tuple(chain)))
    assert cycles == []


def test_importing_the_core_loads_nothing_above_it():
    import subprocess
    import sys

    code = ("import sys, redact.core.regions, redact.core.settings, redact.core.registry, redact.core.errors; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'detectors', 'inpaint', 'pipelines'} "
            "or m in {'redact.api', 'redact.job', 'redact.cli'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
