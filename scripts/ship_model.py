"""Evaluate a training run's checkpoints and ship its final weights with their model card.

    .venv/bin/python scripts/ship_model.py photo runs/photo
    .venv/bin/python scripts/ship_model.py page runs/page
    .venv/bin/python scripts/ship_model.py photo runs/photo --snapshots-only   # while it still trains

Evaluates every ``snap-*.pth`` of the run (copies of its checkpoint taken while it trained) and ``final.pth``
(``redact eval``: photos on ../shared/data/photos/eval at 256 px, pages on the held-out synthetic page seeds),
then ``inpaint.modelcard.ship_run``: the weights go to inpaint/weights/DOMAIN.pth (sha256 in weights.json), the
log and the evaluations are appended to the model's history, and the curve, the example sheet and the card
inpaint/weights/DOMAIN.md are written again.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inpaint.checkpoint import WEIGHTS_DIR  # noqa: E402
from inpaint.evaluate import format_page_table, format_table, run_eval  # noqa: E402
from inpaint.modelcard import progress_of, read_jsonl, ship_run  # noqa: E402

PHOTO_EVAL = ROOT.parent / "shared" / "data" / "photos" / "eval"
PHOTO_EVAL2 = ROOT / "runs" / "photo-data" / "eval2"  # the second held-out set: scripts/photo_data.py


def evaluate(domain: str, weights: Path, out: Path, baselines: dict | None = None) -> dict:
    """The evaluation of one checkpoint; ``baselines``: a full record whose Telea / NS figures are reused.

    A snapshot's RFR-Net figures are kept beside it (``evals/NAME.json``), so they can be computed while the run
    still trains (``--snapshots-only``) and are not computed twice.
    """
    cache = weights.parent / "evals" / f"{weights.stem}.json"
    if baselines is not None and cache.is_file():
        record = json.loads(cache.read_text())
    else:
        record = run_eval(PHOTO_EVAL if domain == "photo" else None, out, weights, domain=domain,
                          baselines=baselines is None)
        if baselines is not None:
            cache.parent.mkdir(exist_ok=True)
            cache.write_text(json.dumps(record))
    if baselines:
        if domain == "photo":
            for bucket, per in record["buckets"].items():
                per.update({k: v for k, v in baselines["buckets"][bucket].items() if k != "rfrnet"})
        else:
            record["methods"].update({k: v for k, v in baselines["methods"].items() if k != "rfrnet"})
    record = {**progress_of(weights), "checkpoint": weights.name, **record}
    if domain == "photo" and baselines is None and PHOTO_EVAL2.is_dir():  # final weights: the second set too
        second = run_eval(PHOTO_EVAL2, out / "eval2", weights, domain="photo")
        record["eval2"] = {"images": second["images"], "buckets": second["buckets"]}
    return record


def markdown_buckets(buckets: dict) -> str:
    """PSNR / SSIM of every method per bucket, as a markdown table."""
    methods = list(next(iter(buckets.values())))
    head = "| bucket | " + " | ".join(f"{m} PSNR / SSIM" for m in methods) + " |"
    rows = [f"| {key} | " + " | ".join(f"{per[m]['psnr']:.2f} / {per[m]['ssim']:.4f}" for m in methods) + " |"
            for key, per in buckets.items()]
    return "\n".join([head, "|---|" + "---|" * len(methods)] + rows)


def table(domain: str, record: dict) -> str:
    return format_table(record["buckets"]) if domain == "photo" else format_page_table(record["methods"])


def card(domain: str) -> str:
    evals = read_jsonl(WEIGHTS_DIR / f"{domain}-evals.jsonl")
    log = read_jsonl(WEIGHTS_DIR / f"{domain}-train_log.jsonl")
    last, final = log[-1], evals[-1]
    recipe = {k: last[k] for k in ("size", "batch_size", "lr", "precision", "vgg", "finetune") if k in last}
    rows = []
    for e in evals:
        if domain == "photo":
            cells = " | ".join(f"{p['rfrnet']['psnr']:.2f} / {p['telea']['psnr']:.2f}" for p in e["buckets"].values())
        else:
            m = e["methods"]
            cells = (f"{m['rfrnet']['mae']:.2f} / {m['telea']['mae']:.2f} | {m['rfrnet']['rule_mae']:.1f} / "
                     f"{m['telea']['rule_mae']:.1f} | {m['rfrnet']['ocr_chars']} / {m['telea']['ocr_chars']}")
        rows.append(f"| {e['images_seen']:,} | {e.get('cpu_hours', 0):.2f} | {cells} |")
    if domain == "photo":
        head = ("| images seen | CPU h | " + " | ".join(final["buckets"]) + " |\n|---|---|"
                + "---|" * len(final["buckets"]))
        what = ("PSNR in dB, RFR-Net / Telea, on the 12 wallpapers of `photos/eval` (never trained on), centre "
                "crops at 256 px, one seeded mask per image and mask-ratio bucket (`redact eval`).")
    else:
        head = "| images seen | CPU h | hole MAE | rule-pixel MAE | OCR chars |\n|---|---|---|---|---|"
        what = ("RFR-Net / Telea on 8 synthetic pages at 200 dpi never trained on (seeds 9000-9007), every item of "
                "personal data removed (its word boxes + 2 px): grey-level MAE of the filled pixels against the "
                "page rendered without that data, the same on pixels that are rules or borders on the clean "
                "page, and letters/digits tesseract reads in the filled areas (`redact eval --domain page`).")
    data = {"photo": "random crops (scale jitter 30-100 % of the short side, flips) of the 300 photos of "
                     "`../shared/data/photos/train`, and since 130,096 images also of 40 desktop wallpapers from "
                     "Debian packages (smooth gradients, dark and saturated flat areas; `scripts/photo_data.py`); holes from `inpaint.masks.random_mask` (face-sized ellipses, "
                     "boxes, word and line boxes, strokes, streaks; 5-60 % of the crop)",
            "page": "crops of synthetic scanned pages (`inpaint.synthdocs`: letters, invoices, forms, tables, half of them ruled since 345,424 images: form lines, ruled and bordered tables; DejaVu "
                    "fonts, 8-14 pt, tint, noise, specks, blur, JPEG, skew) rendered at 150/200/300 dpi into an "
                    "in-memory cache renewed as training goes, half masked over their personal data's boxes with "
                    "the page scanned without that data as the target, half with random holes; 15 % crops of "
                    "the real scans in `../shared/data/docs` with random holes"}[domain]
    notes = WEIGHTS_DIR / f"{domain}-status.md"  # written by hand after looking at the sheet
    status = notes.read_text().strip() if notes.is_file() else "(no notes yet)"
    return f"""# RFR-Net model card: `{domain}`

`inpaint/weights/{domain}.pth` (float16, sha256 in `weights.json`, checked by the loader). Used by
`--style inpaint` for {"photos and video frames" if domain == "photo" else "document pages"} unless `--weights` says
otherwise. Architecture: RFR-Net (Li et al., CVPR 2020) at width 32 (7.8 M parameters), `inpaint/rfrnet.py`.

## Training
- Data: {data}.
- Recipe (latest run): {", ".join(f"{k} {v}" for k, v in recipe.items())}; Adam; losses valid L1 x1, hole L1 x6,
  total variation x0.1. The official perceptual and style terms are off: offline they can only use a
  random-weight VGG16, which cost more than half of each step on this CPU and left colour blotches and grid
  texture in early probes (issue 18).
- Trained on a 2-core CPU (AVX-512 BF16) under `nice`, beside other work, in runs resumed from the last shipped
  weights: {last["step"]:,} steps, **{last["images_seen"]:,} images seen, {last["cpu_hours"]:.2f} CPU hours** so far.
- Log: `{domain}-train_log.jsonl` (losses every 25 steps, cumulative images seen and CPU hours).

## Evaluation
{what}

{head}
{chr(10).join(rows)}

{latest_tables(domain, final)}
![learning curve]({domain}-curve.png)

## Where it stands
{status}

Examples (`{domain}-examples.png`; masked input, RFR-Net, Telea, Navier-Stokes, truth):

![examples]({domain}-examples.png)
"""


def latest_tables(domain: str, final: dict) -> str:
    if domain != "photo":
        return ""
    text = f"The latest weights in full ({final['images_seen']:,} images seen), `photos/eval`:\n\n"
    text += markdown_buckets(final["buckets"]) + "\n"
    if "eval2" in final:
        text += (f"\nSecond held-out set: the other {final['eval2']['images']} wallpapers of Debian "
                 "plasma-workspace-wallpapers (`scripts/photo_data.py`; no image of that package is trained on), "
                 "same protocol:\n\n" + markdown_buckets(final["eval2"]["buckets"]) + "\n")
    return text


def evaluate_snapshots(domain: str, run: Path) -> None:
    """RFR-Net figures of every snapshot not yet evaluated (baselines come from the final evaluation)."""
    for path in sorted(run.glob("snap-*.pth")):
        if not (run / "evals" / f"{path.stem}.json").is_file():
            evaluate(domain, path, run / "evals" / path.stem, baselines={})


def main(domain: str, run_dir: str, *flags: str) -> None:
    run = Path(run_dir)
    if "--snapshots-only" in flags:
        return evaluate_snapshots(domain, run)
    done = {e.get("checkpoint_sha") for e in read_jsonl(WEIGHTS_DIR / f"{domain}-evals.jsonl")}
    evals = []
    with tempfile.TemporaryDirectory() as tmp:
        final = evaluate(domain, run / "final.pth", Path(tmp) / "final")
        snapshots = sorted(run.glob("snap-*.pth"), key=lambda p: progress_of(p)["images_seen"])
        for path in snapshots:
            evals.append(evaluate(domain, path, Path(tmp) / path.stem, baselines=final))
        for record in evals + [final]:
            if record["model"] in done:
                continue
            record["checkpoint_sha"] = record["model"]
            print(f"{record['checkpoint']}: {record['images_seen']:,} images seen, "
                  f"{record.get('cpu_hours', 0):.2f} CPU h")
            print(table(domain, record))
        evals = [r for r in evals + [final] if r["model"] not in done]
        ship_run(domain, run, evals, Path(tmp) / "final" / "examples.png")
    (WEIGHTS_DIR / f"{domain}.md").write_text(card(domain))
    print(f"shipped {WEIGHTS_DIR / (domain + '.pth')}; card {WEIGHTS_DIR / (domain + '.md')}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--card"]:  # redraw the cards only (after editing DOMAIN-status.md)
        for name in sys.argv[2:]:
            (WEIGHTS_DIR / f"{name}.md").write_text(card(name))
    else:
        main(*sys.argv[1:])
