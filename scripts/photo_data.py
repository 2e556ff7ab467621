"""Build the photo model's training folder and its second held-out set from Debian packages.

    .venv/bin/python scripts/photo_data.py [DEST]        # default runs/photo-data

- ``DEST/train``: the 300 photos of ``../shared/data/photos/train`` plus 40 desktop wallpapers (smooth gradients,
  dark and saturated colours, flat areas: what the 300 photos, mostly gcompris pictures, lack) from
  ukui-wallpapers, gnome-backgrounds, lomiri-wallpapers, sway-backgrounds and desktop-base (grub backgrounds).
- ``DEST/eval2``: the 18 wallpapers of plasma-workspace-wallpapers that ``photos/eval`` (the other 12 of that
  package) leaves out: a second evaluation set, never trained on. No other package of the training folder is
  drawn from for it.

Every image is scaled to at most 768 px on its longer side and written as JPEG quality 90, as in
``../shared/data``. Needs ``apt-get download`` (the Debian mirror) and ``dpkg``; run once per machine.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "photos"
TRAIN_PACKAGES = {  # package: glob of its pictures
    "ukui-wallpapers": "usr/share/backgrounds/*",
    "gnome-backgrounds": "usr/share/backgrounds/gnome/*.webp",
    "lomiri-wallpapers": "usr/share/backgrounds/*.png",
    "sway-backgrounds": "usr/share/backgrounds/sway/Sway_Wallpaper_Blue_1920x1080.png",
    "desktop-base": "usr/share/desktop-base/*-theme/grub/grub-16x9.png",
}
EVAL_PACKAGE = "plasma-workspace-wallpapers"
MAX_SIDE = 768


def unpack(package: str, work: Path) -> Path:
    subprocess.run(["apt-get", "download", package], cwd=work, check=True, capture_output=True)
    deb = next(work.glob(f"{package}_*.deb"))
    root = work / package
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def save(src: Path, dest: Path) -> None:
    image = cv2.imread(str(src), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"{src}: not an image")
    scale = MAX_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(dest), image, [cv2.IMWRITE_JPEG_QUALITY, 90])


def main(dest: Path) -> None:
    train, eval2 = dest / "train", dest / "eval2"
    for folder in (train, eval2):
        folder.mkdir(parents=True, exist_ok=True)
    for path in SHARED.joinpath("train").iterdir():
        shutil.copyfile(path, train / path.name)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        added = 0
        for package, pattern in TRAIN_PACKAGES.items():
            root = unpack(package, work)
            for src in sorted(root.glob(pattern)):
                name = src.parts[-3] if package == "desktop-base" else src.stem
                save(src, train / f"{package}__{name}.jpg")
                added += 1
        root = unpack(EVAL_PACKAGE, work)
        used = {p.stem.split("__", 1)[1] for p in SHARED.joinpath("eval").iterdir()}
        held = 0
        for folder in sorted(root.glob("usr/share/wallpapers/*")):
            if folder.name in used:
                continue
            largest = max(folder.glob("contents/images/*"), key=lambda p: p.stat().st_size)
            save(largest, eval2 / f"plasma__{folder.name}.jpg")
            held += 1
    print(f"{train}: {len(list(train.iterdir()))} images ({added} wallpapers added); {eval2}: {held} images")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "runs" / "photo-data")
