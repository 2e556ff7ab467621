"""Names and personal data in scanned pages: recall per type, precision, and time per page against tesseract alone.

Generated pages (inpaint.synthdocs: letters, invoices, forms, tables; 200 and 300 dpi; serif/sans/mono 8-14 pt;
noise, rotation, JPEG) go through the real Redactor (--detect names,pii). A ground-truth item counts as found only
if every one of its ink pixels is inside the mask; precision is the share of non-PII words (punctuation aside) none of whose ink
pixels is masked. Every generated page is a document of its own (one ``Redactor.detect`` call per page, as the
image job makes one per file): a name found on one page is not looked for on unrelated pages. Time per page is the
detection pipeline's, next to plain tesseract on the same pages in the same run: the very call the pipeline makes
(grey PGM, image_to_data, OMP_THREAD_LIMIT=1, one page at a time as the pipeline then runs them), timed before
and after the pipeline and averaged.
The real scans in ../shared/data/docs are then run too (regions per kind, time against tesseract alone).

    .venv/bin/python benchmarks/bench_text.py [--pages 16] [--seed 0]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["OMP_THREAD_LIMIT"] = "1"

from detectors.inkcover import grey_of  # noqa: E402
from detectors.ocr import MIN_TIMEOUT, SECONDS_PER_MEGAPIXEL, _run_tesseract, ocr_page  # noqa: E402
from pipelines.image_io import read_image  # noqa: E402
from pipelines.redactor import Redactor  # noqa: E402
from redact.core.regions import build_mask  # noqa: E402
from redact.core.settings import Settings  # noqa: E402
from inpaint.synthdocs import KINDS, generate_page  # noqa: E402

DOCS = ROOT.parent / "shared" / "data" / "docs"


def tesseract_alone(images) -> float:
    """Seconds for plain tesseract word boxes on every image, one after another as the pipeline runs them: the
    very invocation the pipeline makes (grey page written as PGM, ``image_to_data``, same config)."""
    t0 = time.perf_counter()
    for im in images:
        grey = grey_of(im)
        _run_tesseract(grey, max(MIN_TIMEOUT, SECONDS_PER_MEGAPIXEL * grey.size / 1e6))
    return time.perf_counter() - t0


def pipeline(redactor, images):
    """Regions of every image, each its own one-page document, and the seconds that took."""
    t0 = time.perf_counter()
    regions = [redactor.detect([im], k, document=True)[0] for k, im in enumerate(images)]
    return regions, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    settings = Settings(detect=("names", "pii"), style="box")
    redactor = Redactor(settings)
    [redactor.detector(n) for n in redactor.detector_names(True)]  # models load before any timing

    rng = np.random.default_rng(args.seed)
    pages = [generate_page(rng, dpi=(300, 200)[i // len(KINDS) % 2], kind=KINDS[i % len(KINDS)])
             for i in range(args.pages)]
    images = [p.image for p in pages]
    t_before = tesseract_alone(images)
    regions, t_pipe = pipeline(redactor, images)
    t_after = tesseract_alone(images)  # before and after: the machine's load drifts
    t_tess = (t_before + t_after) / 2

    found, total = defaultdict(int), defaultdict(int)
    kept = touched = 0
    misses = []
    for page, regs in zip(pages, regions):
        h, w = page.image.shape[:2]
        mask = build_mask(regs, h, w, settings.pad)
        for k, item in enumerate(page.items):
            total[item.kind] += 1
            if mask[page.item_mask(k)].all():
                found[item.kind] += 1
            else:
                share = mask[page.item_mask(k)].mean()
                misses.append(f"{page.kind}/{page.dpi}/{page.font}{page.size_pt:g}: {item.kind} {item.text!r} "
                              f"({share:.0%} of its ink masked)")
        masked_ids = np.unique(page.word_ink[mask])
        for j, word in enumerate(page.words):
            if not word.pii and any(c.isalnum() for c in word.text):  # punctuation on its own carries nothing
                if (j + 1) in masked_ids:
                    touched += 1
                    if len(misses) < 400:
                        misses.append(f"{page.kind}/{page.dpi}: over-redacted {word.text!r}")
                else:
                    kept += 1
    n = len(pages)
    print(f"generated pages: {n} ({', '.join(KINDS)}; 300 and 200 dpi)")
    print(f"{'type':<15}{'found':>7}{'items':>7}{'recall':>9}")
    for kind in sorted(total):
        print(f"{kind:<15}{found[kind]:>7}{total[kind]:>7}{found[kind] / total[kind]:>9.3f}")
    all_found, all_total = sum(found.values()), sum(total.values())
    print(f"{'all':<15}{all_found:>7}{all_total:>7}{all_found / all_total:>9.3f}")
    print(f"precision (non-PII words untouched): {kept}/{kept + touched} = {kept / max(1, kept + touched):.3f}")
    print(f"s/page: pipeline {t_pipe / n:.2f}, tesseract alone {t_tess / n:.2f} (runs before/after: "
          f"{t_before / n:.2f}/{t_after / n:.2f}), ratio {t_pipe / t_tess:.2f}")
    # the part after OCR alone (recognisers, spaCy, regions, ink cover), on words OCR'd beforehand: a figure the
    # machine's load hardly moves, unlike the end-to-end ratio above
    text_detector = redactor.detector("text:names+pii")
    sample = images[:12]
    words = [ocr_page(im) for im in sample]
    t0 = time.perf_counter()
    for im, w in zip(sample, words):
        text_detector.regions_from_words([im], [w])
    t_rest = (time.perf_counter() - t0) / len(sample)
    print(f"after OCR (recognisers and regions, {len(sample)} pages): {t_rest:.3f} s/page = "
          f"{t_rest / (t_tess / n):.1%} of tesseract alone")
    if misses:
        print("misses and over-redactions:")
        for m in misses[:60]:
            print("  ", m)

    real = sorted(DOCS.glob("*.png")) + sorted(DOCS.glob("*.pdf")) if DOCS.exists() else []
    if real:
        print("\nreal scans (../shared/data/docs; PDFs rendered at 200 dpi, all pages one document):")
        for path in real:
            images = read_image(path).pages if path.suffix == ".png" else pdf_pages(path)
            t_t = tesseract_alone(images)
            t0 = time.perf_counter()
            regs = redactor.detect(images, 0, document=True)
            t_p = time.perf_counter() - t0
            kinds = defaultdict(int)
            hidden = []
            for im, page_regs in zip(images, regs):
                for r in page_regs:
                    kinds[r.kind] += 1
                mask = build_mask(page_regs, im.shape[0], im.shape[1], settings.pad)
                hidden += [w.text for w in ocr_page(im)
                           if mask[int(w.box[1]):int(w.box[3]), int(w.box[0]):int(w.box[2])].mean() > 0.5]
            print(f"  {path.name} ({len(images)} p.): {dict(kinds)}; {t_p:.2f} s vs tesseract {t_t:.2f} s; "
                  f"masked words: {' '.join(hidden)[:300]}")


def pdf_pages(path: Path) -> list[np.ndarray]:
    from pdf2image import convert_from_path

    return [np.asarray(p.convert("RGB")) for p in convert_from_path(str(path), dpi=200)]


if __name__ == "__main__":
    main()
