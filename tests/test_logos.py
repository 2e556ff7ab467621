"""Logo detection with real brand marks (simple-icons-pack SVGs, CC0) composited onto real photos."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import load_rgb, shared
from logo_scenes import coverage, degrade, icon_svg, place_mark, render_alpha
from redact.errors import InputError
from redact.regions import LOGO, build_mask
from redact.settings import Settings

MARKS = ("mailbox", "dropbox")


@pytest.fixture(scope="session")
def logo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logos")
    for slug in MARKS:
        (folder / f"{slug}.svg").write_bytes(icon_svg(slug))
    return folder


@pytest.fixture(scope="session")
def logo_detector(logo_dir):
    from detectors.logos import LogoDetector

    return LogoDetector(Settings(logos=str(logo_dir)))


def box_area(placed) -> float:
    return float(cv2.contourArea(placed.quad))


def eval_photo(name: str) -> np.ndarray:
    return load_rgb(shared(f"photos/eval/plasma__{name}.jpg"))


# (mark, photo, width px, rotation degrees, perspective tilt)
CASES = [
    ("mailbox", "BytheWater", 120, 30, 0.2),
    ("mailbox", "Volna", 200, 150, 0.25),
    ("dropbox", "Kite", 60, -70, 0.1),
    ("dropbox", "DarkestHour", 40, 10, 0.0),
]


@pytest.mark.parametrize("slug,photo,width,angle,tilt", CASES)
def test_finds_real_mark_under_scale_rotation_perspective(logo_detector, slug, photo, width, angle, tilt):
    rng = np.random.default_rng(5)
    image, placed = place_mark(eval_photo(photo), icon_svg(slug), width, rng, angle=angle, tilt=tilt)
    image = degrade(image, rng, blur=0.6, noise=2, quality=80)
    regions = logo_detector.detect([image], start_index=7)[0]
    assert {r.label for r in regions} == {f"{slug}.svg"}
    r = regions[0]
    assert r.kind == LOGO and r.index == 7 and r.polygon is not None and 0 < r.score <= 1
    mask = build_mask(regions, *image.shape[:2], pad=2.0)
    assert coverage(mask, placed.truth) >= 0.95
    assert mask.sum() < 1.4 * box_area(placed) + 400  # the polygon is the mark's box, not the whole photo


def test_inverted_and_recoloured_mark(logo_detector):
    """A black reference found when printed white on a dark photo."""
    rng = np.random.default_rng(2)
    image, placed = place_mark(eval_photo("DarkestHour"), icon_svg("mailbox"), 90, rng, angle=-20, tilt=0.1,
                               colour=(255, 255, 255))
    regions = logo_detector.detect([degrade(image, rng, blur=0.5, noise=2, quality=85)])[0]
    assert coverage(build_mask(regions, *image.shape[:2], pad=2.0), placed.truth) >= 0.95


@pytest.mark.parametrize("photo", ["BytheWater", "ColorfulCups", "Grey", "Path"])
def test_no_detection_on_logo_free_photos(logo_detector, photo):
    rng = np.random.default_rng(3)
    assert logo_detector.detect([degrade(eval_photo(photo), rng, blur=0.5, noise=2, quality=80)])[0] == []


def test_png_reference_and_model_id(tmp_path, logo_dir, logo_detector):
    from detectors.logos import LogoDetector

    alpha = render_alpha(icon_svg("mailbox"), 300)
    rgba = np.zeros(alpha.shape + (4,), np.uint8)
    rgba[..., 2] = 200
    rgba[..., 3] = (alpha * 255).astype(np.uint8)
    Image.fromarray(rgba).save(tmp_path / "mailbox.png")
    det = LogoDetector(Settings(logos=str(tmp_path)))
    assert det.model_id != logo_detector.model_id
    assert det.model_id == LogoDetector(Settings(logos=str(tmp_path))).model_id  # a hash of the references
    rng = np.random.default_rng(4)
    image, placed = place_mark(eval_photo("Kite"), icon_svg("mailbox"), 100, rng, angle=45, tilt=0.15)
    regions = det.detect([image])[0]
    assert [r.label for r in regions] == ["mailbox.png"]
    assert coverage(build_mask(regions, *image.shape[:2], pad=2.0), placed.truth) >= 0.95


def test_bad_reference_folders(tmp_path):
    from detectors.logos import LogoDetector

    with pytest.raises(InputError, match="no PNG, JPEG or SVG"):
        LogoDetector(Settings(logos=str(tmp_path)))
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(InputError, match="broken.png"):
        LogoDetector(Settings(logos=str(tmp_path)))
    with pytest.raises(InputError, match="--logos"):
        LogoDetector(Settings())


def test_logos_option_adds_the_detector():
    assert Settings(logos="x").detectors_for(False) == ("faces", "logos")
    assert "logos" in Settings(logos="x").detectors_for(True)
    assert Settings(logos="x", detect=("faces",)).detectors_for(False) == ("faces",)
    assert "logos" not in Settings().detectors_for(False)


def test_cli_removes_logo_end_to_end(tmp_path, logo_dir, cli_runner):
    """``redact images --logos DIR --style box``: the mark's pixels are filled, the rest of the photo kept."""
    from redact.cli import main

    rng = np.random.default_rng(6)
    image, placed = place_mark(eval_photo("Path"), icon_svg("mailbox"), 110, rng, angle=60, tilt=0.2)
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    Image.fromarray(image).save(src / "photo.png")
    result = cli_runner.invoke(main, ["images", str(src), "-o", str(out), "--logos", str(logo_dir),
                                      "--style", "box", "--logo-threshold", "0.75"])
    assert result.exit_code == 0, result.output
    redacted = np.asarray(Image.open(out / "photo.png").convert("RGB"))
    filled = (redacted == 0).all(axis=2)
    assert coverage(filled, placed.truth) >= 0.95
    assert filled.sum() < 1.4 * box_area(placed) + 400
    assert np.array_equal(redacted[~filled], image[~filled])
    audit = (out / "audit.jsonl").read_text()
    assert '"label": "mailbox.svg"' in audit and '"kind": "logo"' in audit
