"""Output size of the PDF job against its input, on the real sample PDFs, at a few resolutions.

    .venv/bin/python benchmarks/bench_pdf_size.py [--dpi 150,200,300] [--detect none]

Pages are written as lossless Flate (PNG predictors) or JPEG, whichever is smaller, grey when the page is grey.
``--detect none`` (default) measures the encoding alone; the fills change sizes by a few per cent at most.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data" / "docs"
INPUTS = [ROOT / "samples" / "docs" / "ocrmypdf_linn.pdf", SHARED / "ocrmypdf_epson.pdf",
          SHARED / "pikepdf_form_210966.pdf", ROOT / "samples" / "docs" / "digital_letter.pdf"]


def main() -> None:
    import pypdf

    from redact.core.console import Console
    from redact.job import Job
    from redact.core.settings import Settings, parse_detect

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dpi", default="150,200,300")
    parser.add_argument("--detect", default="none")
    args = parser.parse_args()
    detect = () if args.detect == "none" else parse_detect(args.detect)
    print(f"{'input':28s} {'pages':>5s} {'input KB':>9s}  " + "  ".join(f"{d + ' dpi':>16s}" for d in
                                                                       args.dpi.split(",")))
    with tempfile.TemporaryDirectory(prefix="bench-pdf-size-") as tmp:
        for src in INPUTS:
            if not src.exists():
                print(f"{src.name:28s} (missing)")
                continue
            cells, pages = [], 0
            for dpi in map(int, args.dpi.split(",")):
                out = Path(tmp) / f"{dpi}_{src.name}"
                job = Job(Settings(detect=detect, dpi=dpi), Path(tmp) / "audit.jsonl", Console(verbose=False))
                t0 = time.perf_counter()
                result = job.process(src, out)
                if result.status != "ok":
                    raise SystemExit(f"{src.name}: {result.error}")
                pages = len(pypdf.PdfReader(out).pages)
                ratio, seconds = out.stat().st_size / src.stat().st_size, (time.perf_counter() - t0) / pages
                cells.append(f"{ratio:5.2f}x {seconds:4.2f}s/p")
                job.audit.close()
            row = "  ".join(f"{c:>16s}" for c in cells)
            print(f"{src.name:28s} {pages:5d} {src.stat().st_size / 1024:9.1f}  {row}")
    print("cells: output size / input size, and seconds per page (render + encode + write, no detection)"
          if not detect else "cells: output size / input size, and seconds per page")


if __name__ == "__main__":
    main()
