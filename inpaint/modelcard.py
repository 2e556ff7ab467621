"""What ships with each RFR-Net model in ``inpaint/weights``: its training log, its evaluation history (one
record per committed checkpoint), the learning curve drawn from them and a model card.

``scripts/ship_model.py`` calls ``ship_run`` at the end of a training run: the run's float16 weights become the
shipped ones, its log lines and its evaluation are appended to the model's history, and the curve and the card
are drawn again from the whole history.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inpaint.checkpoint import WEIGHTS_DIR, read_checkpoint, ship

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()] \
        if Path(path).is_file() else []


def append_jsonl(path: Path, records: list[dict]) -> None:
    with open(path, "a") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def curve_points(domain: str, evals: list[dict]) -> tuple[dict, dict, str]:
    """({series: [(images seen, value)]}, {series: Telea's level}, y label) for the learning curve."""
    series: dict = {}
    telea: dict = {}
    for e in evals:
        if domain == "photo":
            for bucket, per in e["buckets"].items():
                series.setdefault(bucket, []).append((e["images_seen"], per["rfrnet"]["psnr"]))
                telea[bucket] = per["telea"]["psnr"]
        else:
            series.setdefault("hole MAE", []).append((e["images_seen"], e["methods"]["rfrnet"]["mae"]))
            telea["hole MAE"] = e["methods"]["telea"]["mae"]
    return series, telea, "PSNR (dB)" if domain == "photo" else "grey-level MAE in removed text"


def draw_curve(path: Path, series: dict, levels: dict, ylabel: str, title: str, size=(900, 520)) -> None:
    """A line chart: each series against images seen (solid, dots), its Telea level as a dashed line."""
    w, h = size
    left, right, top, bottom = 80, 170, 40, 60
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    xs = [x for pts in series.values() for x, _ in pts] or [0, 1]
    ys = [y for pts in series.values() for _, y in pts] + list(levels.values())
    x0, x1 = 0, max(xs) * 1.05 or 1
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.1 or 1
    y0, y1 = y0 - pad, y1 + pad
    px = lambda x: left + (x - x0) / (x1 - x0) * (w - left - right)  # noqa: E731
    py = lambda y: top + (y1 - y) / (y1 - y0) * (h - top - bottom)  # noqa: E731
    d.rectangle([left, top, w - right, h - bottom], outline="black")
    for t in np.linspace(y0, y1, 6):
        d.text((8, py(t) - 6), f"{t:.1f}", fill="black", font=font)
        d.line([left - 4, py(t), left, py(t)], fill="black")
    for t in np.linspace(x0, x1, 6):
        d.text((px(t) - 14, h - bottom + 8), f"{t / 1000:.0f}k", fill="black", font=font)
    d.text((left + (w - left - right) // 2 - 40, h - 24), "images seen", fill="black", font=font)
    d.text((8, 12), f"{title}   ({ylabel}; dashed: OpenCV Telea)", fill="black", font=font)
    for i, (name, pts) in enumerate(series.items()):
        c = COLOURS[i % len(COLOURS)]
        pts = sorted(pts)
        d.line([(px(x), py(y)) for x, y in pts], fill=c, width=2) if len(pts) > 1 else None
        for x, y in pts:
            d.ellipse([px(x) - 3, py(y) - 3, px(x) + 3, py(y) + 3], fill=c)
        if name in levels:
            yl = py(levels[name])
            for xa in range(left, w - right, 12):
                d.line([xa, yl, min(xa + 6, w - right), yl], fill=c, width=1)
        d.text((w - right + 12, top + 16 * i), f"- {name}", fill=c, font=font)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def ship_run(domain: str, run_dir: Path, evals: list[dict], sheet: Path | None, folder: Path = WEIGHTS_DIR) -> Path:
    """Ship ``run_dir/final.pth`` as the ``domain`` model with its log, its evaluations (one record per
    checkpoint evaluated, the last being final.pth) and a redrawn curve; returns the weights' path."""
    run_dir, folder = Path(run_dir), Path(folder)
    weights = ship(run_dir / "final.pth", domain, folder)
    log_path = folder / f"{domain}-train_log.jsonl"
    done = max((r["images_seen"] for r in read_jsonl(log_path)), default=-1)
    append_jsonl(log_path, [r for r in read_jsonl(run_dir / "train_log.jsonl") if r["images_seen"] > done])
    evals_path = folder / f"{domain}-evals.jsonl"
    append_jsonl(evals_path, evals)
    series, levels, ylabel = curve_points(domain, read_jsonl(evals_path))
    draw_curve(folder / f"{domain}-curve.png", series, levels, ylabel, f"RFR-Net '{domain}' learning curve")
    if sheet is not None:
        shutil.copyfile(sheet, folder / f"{domain}-examples.png")
    return weights


def progress_of(path: Path) -> dict:
    """{"step", "images_seen", "cpu_hours"} of a checkpoint."""
    ckpt = read_checkpoint(path)
    return {"step": int(ckpt.get("n_iter", 0)), **ckpt.get("progress", {})}
