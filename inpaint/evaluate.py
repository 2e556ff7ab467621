"""Inpainting quality in the paper's mask-ratio buckets, RFR-Net next to OpenCV Telea and Navier-Stokes.

Every image of a folder is centre-cropped to a square and resized to ``size``; per bucket (hole ratio 10-20 %,
..., 50-60 %) each image gets one seeded random mask (``inpaint.masks``) drawn for that bucket, and every method
fills the same masked image. PSNR (dB) and L1 (mean absolute error, 0-1 scale) are over the whole image, as the
paper reports them; SSIM is the Gaussian-window SSIM of Wang et al. (sigma 1.5, on the grey image). A PNG sheet
shows a few examples: masked input, each method, ground truth. ``redact eval`` is the command line.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from inpaint.fills import OpenCVFill
from inpaint.masks import ratio_mask

BUCKETS = ((0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6))
PAGE_SEEDS = range(9000, 9008)  # synthetic pages for the page model's evaluation (training never draws these)
PAGE_DPI = 200  # the PDF job's default
RULE_INK = 60  # a clean-page pixel this much darker than its paper is ink: inside a hole, a rule or a border


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(m.mean())


def l1(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64))) / 255.0)


def square(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    crop = image[y:y + s, x:x + s]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if s > size else cv2.INTER_CUBIC)


def evaluate(images: list[np.ndarray], fills: dict, size: int = 256, seed: int = 0, sheet: Path | None = None,
             examples: int = 5, domain: str = "photo", progress=None) -> dict:
    """{bucket: {method: {psnr, ssim, l1, n}}} for ``fills`` ({name: Fill}); optionally a PNG sheet."""
    rng = np.random.default_rng(seed)
    gts = [square(img, size) for img in images]
    results: dict = {}
    rows = []
    for bi, (low, high) in enumerate(BUCKETS):
        key = f"{int(low * 100)}-{int(high * 100)}%"
        masks = [ratio_mask(rng, size, size, low, high) for _ in gts]
        masked = [gt * (~m)[..., None] for gt, m in zip(gts, masks)]
        per = {}
        outs_by = {}
        for name, fill in fills.items():
            outs = fill.fill(masked, masks, domain)
            outs_by[name] = outs
            per[name] = {"psnr": float(np.mean([psnr(o, g) for o, g in zip(outs, gts)])),
                         "ssim": float(np.mean([ssim(o, g) for o, g in zip(outs, gts)])),
                         "l1": float(np.mean([l1(o, g) for o, g in zip(outs, gts)])), "n": len(gts)}
            if progress is not None:
                progress.update(1)
        results[key] = per
        if len(rows) < examples:  # one example per bucket, a different image each time
            j = bi % len(gts)
            show = masked[j].copy()
            show[masks[j]] = (255, 255, 255)
            rows.append([show] + [outs_by[n][j] for n in fills] + [gts[j]])
    if sheet is not None and rows:
        write_sheet(sheet, rows, ["masked"] + list(fills) + ["original"])
    return results


def write_sheet(path: Path, rows: list[list[np.ndarray]], titles: list[str]) -> None:
    size = rows[0][0].shape[0]
    head = 24
    sheet = np.full((head + size * len(rows), size * len(titles), 3), 255, np.uint8)
    for c, t in enumerate(titles):
        cv2.putText(sheet, t, (c * size + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            sheet[head + r * size:head + (r + 1) * size, c * size:(c + 1) * size] = img
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


def format_table(results: dict) -> str:
    methods = list(next(iter(results.values())))
    lines = [f"{'bucket':<8} " + " ".join(f"{m + ' PSNR':>13} {m + ' SSIM':>13} {m + ' L1':>11}" for m in methods)]
    for key, per in results.items():
        lines.append(f"{key:<8} " + " ".join(f"{per[m]['psnr']:>13.2f} {per[m]['ssim']:>13.4f} {per[m]['l1']:>11.4f}"
                                             for m in methods))
    return "\n".join(lines)


def evaluate_pages(fills: dict, seeds=PAGE_SEEDS, dpi: int = PAGE_DPI, sheet: Path | None = None,
                   progress=None) -> dict:
    """The page model's targets on synthetic pages never trained on, per method ({name: Fill}):

    - ``mae``: mean absolute grey error of the filled pixels against the page rendered without the personal
      data (a removed name must become the page's paper);
    - ``ocr_chars``: letters and digits tesseract reads in the filled areas (the clean page around them);
    - ``rule_mae``: the grey error on the hole pixels that are ink on the clean page (rules, underlines and
      borders crossing a hole must continue); ``rule_px`` counts them.
    """
    from inpaint.train import box_mask
    from inpaint.synthdocs import generate_page

    sums: dict = {name: {"mae": 0.0, "px": 0, "rule_err": 0.0, "rule_px": 0, "ocr_chars": 0} for name in fills}
    rows = []
    for seed in seeds:
        page = generate_page(np.random.default_rng(seed), dpi, rules=True)
        hole = box_mask([b for it in page.items for b in it.boxes], 0, 0, page.image.shape[:2], pad=2)
        clean = cv2.cvtColor(page.clean, cv2.COLOR_RGB2GRAY).astype(np.float64)
        paper = cv2.medianBlur(cv2.cvtColor(page.clean, cv2.COLOR_RGB2GRAY), 31).astype(np.float64)
        rule = hole & (clean < paper - RULE_INK)
        row = [_thumb(page.image, hole, show_hole=True)]
        for name, fill in fills.items():
            out = fill.fill([page.image * (~hole)[..., None]], [hole], "page")[0]
            grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(np.float64)
            err = np.abs(grey - clean)
            acc = sums[name]
            acc["mae"] += float(err[hole].sum())
            acc["px"] += int(hole.sum())
            acc["rule_err"] += float(err[rule].sum())
            acc["rule_px"] += int(rule.sum())
            acc["ocr_chars"] += chars_read_in(np.where(hole, grey, clean).astype(np.uint8), hole)
            row.append(_thumb(out, hole))
            if progress is not None:
                progress.update(1)
        rows.append(row + [_thumb(page.clean, hole)])
    if sheet is not None and rows:
        write_sheet(sheet, rows, ["masked"] + list(fills) + ["clean page"])
    return {name: {"mae": a["mae"] / max(1, a["px"]), "rule_mae": a["rule_err"] / max(1, a["rule_px"]),
                   "rule_px": a["rule_px"], "ocr_chars": a["ocr_chars"], "pages": len(list(seeds))}
            for name, a in sums.items()}


def chars_read_in(grey: np.ndarray, hole: np.ndarray) -> int:
    """Letters and digits of the words tesseract reads whose box centre lies in ``hole`` (grown by 3 px)."""
    import pytesseract

    data = pytesseract.image_to_data(grey, config="--psm 11", output_type=pytesseract.Output.DICT)
    near = cv2.dilate(hole.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    h, w = hole.shape
    count = 0
    for text, x, y, bw, bh in zip(data["text"], data["left"], data["top"], data["width"], data["height"]):
        cx, cy = min(w - 1, x + bw // 2), min(h - 1, y + bh // 2)
        if text.strip() and near[cy, cx]:
            count += sum(ch.isalnum() for ch in text)
    return count


def _thumb(image: np.ndarray, hole: np.ndarray, side: int = 320, show_hole: bool = False) -> np.ndarray:
    """A square crop of ``side`` px around the first hole of a page (what a sheet row shows)."""
    ys, xs = np.nonzero(hole)
    h, w = hole.shape
    cy, cx = (int(ys[0]), int(xs[0])) if len(ys) else (h // 2, w // 2)
    y0, x0 = int(np.clip(cy - side // 2, 0, h - side)), int(np.clip(cx - side // 4, 0, w - side))
    crop = image[y0:y0 + side, x0:x0 + side].copy()
    if show_hole:
        crop[hole[y0:y0 + side, x0:x0 + side]] = (255, 0, 255)
    return crop


def format_page_table(results: dict) -> str:
    lines = [f"{'method':<10} {'hole MAE':>9} {'rule MAE':>9} {'rule px':>8} {'OCR chars':>10}"]
    for name, r in results.items():
        lines.append(f"{name:<10} {r['mae']:>9.2f} {r['rule_mae']:>9.2f} {r['rule_px']:>8} {r['ocr_chars']:>10}")
    return "\n".join(lines)


def run_eval(data_dir: Path | None, out_dir: Path, weights=None, size: int = 256, limit: int | None = None,
             device: str = "cpu", seed: int = 0, domain: str = "photo", baselines: bool = True,
             console=None) -> dict:
    """``redact eval``: the table (printed), ``metrics.json`` and ``examples.png`` in ``out_dir``.

    ``photo``: the mask-ratio buckets on the images under ``data_dir``; ``page``: ``evaluate_pages`` (``limit``
    pages, default all of ``PAGE_SEEDS``). ``baselines`` False: RFR-Net alone (Telea and Navier-Stokes give the
    same figures for every checkpoint).
    """
    from inpaint.train import list_images, read_rgb
    from redact.core.console import Console
    from redact.core.errors import UsageError

    fills = {}
    if weights is not None:
        from inpaint.rfr_fill import RFRFill

        fills["rfrnet"] = RFRFill(device, weights)
    if baselines or not fills:
        fills["telea"] = OpenCVFill("telea")
        fills["ns"] = OpenCVFill("ns")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    console = console or Console()
    model = fills["rfrnet"].model_id if "rfrnet" in fills else None
    if domain == "page":
        seeds = list(PAGE_SEEDS)[:limit] if limit else list(PAGE_SEEDS)
        with console.progress(total=len(seeds) * len(fills), desc="eval pages", unit="page") as bar:
            results = evaluate_pages(fills, seeds, sheet=out_dir / "examples.png", progress=bar)
        record = {"domain": "page", "pages": len(seeds), "dpi": PAGE_DPI, "seeds": seeds, "model": model,
                  "methods": results}
    else:
        if data_dir is None:
            raise UsageError("redact eval --domain photo needs a folder of images")
        paths = list_images(data_dir)[:limit] if limit else list_images(data_dir)
        images = [img for img in (read_rgb(p) for p in paths) if img is not None]
        if not images:
            raise UsageError(f"no images to evaluate in {data_dir}")
        with console.progress(total=len(BUCKETS) * len(fills), desc="eval", unit="run") as bar:
            results = evaluate(images, fills, size, seed, out_dir / "examples.png", progress=bar)
        record = {"domain": "photo", "images": len(images), "size": size, "seed": seed, "model": model,
                  "buckets": results}
    (out_dir / "metrics.json").write_text(json.dumps(record, indent=2))
    return record
