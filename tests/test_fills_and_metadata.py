"""Fills change only masked pixels and never depend on them; outputs carry no metadata."""
from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, TiffImagePlugin

from conftest import SAMPLES, load_rgb
from inpaint.fills import get_fill
from pipelines.image_io import read_image, write_image
from redact.core.regions import FACE, Region, build_mask

REDACT = [sys.executable, "-m", "redact.cli"]


@pytest.fixture(scope="module")
def photo():
    return load_rgb(SAMPLES / "photos" / "skimage_astronaut.png")


@pytest.fixture(scope="module")
def mask(photo):
    m = np.zeros(photo.shape[:2], bool)
    m[100:220, 150:260] = True
    m[300:320, 40:400] = True
    return m


@pytest.mark.parametrize("style", ["box", "telea", "ns"])
def test_output_does_not_depend_on_masked_pixels(style, photo, mask):
    fill = get_fill(style)
    rng = np.random.default_rng(0)
    tampered = photo.copy()
    tampered[mask] = rng.integers(0, 256, size=(mask.sum(), 3), dtype=np.uint8)
    a = fill.fill([photo], [mask])[0]
    b = fill.fill([tampered], [mask])[0]
    assert np.array_equal(a, b)
    assert not np.array_equal(a[mask], photo[mask])


@pytest.mark.parametrize("style", ["box", "telea", "ns", "blur", "pixelate"])
def test_only_masked_pixels_change(style, photo, mask):
    out = get_fill(style).fill([photo], [mask])[0]
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert np.array_equal(out[~mask], photo[~mask])


def test_blur_and_pixelate_warn_they_are_weak(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    Image.open(SAMPLES / "photos" / "facexlib_test.jpg").save(src / "a.png")
    for style in ("blur", "pixelate"):
        proc = subprocess.run(REDACT + ["images", str(src), "-o", str(tmp_path / style), "--style", style],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "reversible for text" in proc.stderr


def test_manual_inpaint_changes_only_mask_and_ignores_masked_pixels(tmp_path, photo, mask):
    img, tampered = tmp_path / "img.png", tmp_path / "tampered.png"
    Image.fromarray(photo).save(img)
    t = photo.copy()
    t[mask] = 255 - t[mask]
    Image.fromarray(t).save(tampered)
    Image.fromarray((mask * 255).astype(np.uint8)).save(tmp_path / "mask.png")
    for style in ("telea", "box"):
        outs = []
        for src in (img, tampered):
            out = tmp_path / f"{style}-{src.name}"
            proc = subprocess.run(REDACT + ["inpaint", str(src), "--mask", str(tmp_path / "mask.png"), "-o", str(out),
                                            "--style", style], capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr
            outs.append(load_rgb(out))
        assert np.array_equal(outs[0][~mask], photo[~mask])
        assert np.array_equal(outs[0], outs[1])


def test_manual_mask_dir_matches_by_name(tmp_path, photo, mask):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "masks").mkdir()
    Image.fromarray(photo).save(tmp_path / "imgs" / "a.png")
    Image.fromarray(photo).save(tmp_path / "imgs" / "b.png")
    Image.fromarray((mask * 255).astype(np.uint8)).save(tmp_path / "masks" / "a.png")
    proc = subprocess.run(REDACT + ["inpaint", str(tmp_path / "imgs"), "--mask-dir", str(tmp_path / "masks"),
                                    "-o", str(tmp_path / "out"), "--style", "box"], capture_output=True, text=True)
    assert proc.returncode == 1  # b.png has no mask: it fails, closed
    assert (tmp_path / "out" / "a.png").exists() and not (tmp_path / "out" / "b.png").exists()
    assert "b.png" in proc.stderr and "Traceback" not in proc.stderr
    out = load_rgb(tmp_path / "out" / "a.png")
    assert (out[mask] == 0).all() and np.array_equal(out[~mask], photo[~mask])


def _jpeg_with_private_metadata(path, rgb):
    exif = Image.Exif()
    exif[0x013B] = "Jane Private Artist"  # Artist
    exif[0x010E] = "home of Jane"  # ImageDescription
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    gps = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[0x8825] = gps
    Image.fromarray(rgb).save(path, "JPEG", exif=exif.tobytes(), quality=95,
                              icc_profile=b"\0" * 128 + b"Jane's private profile")


def test_no_metadata_survives_and_orientation_is_applied(tmp_path, photo):
    src = tmp_path / "in"
    src.mkdir()
    _jpeg_with_private_metadata(src / "gps.jpg", photo[:, :400])
    raw = (src / "gps.jpg").read_bytes()
    assert b"Jane Private Artist" in raw
    proc = subprocess.run(REDACT + ["images", str(src), "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out_path = tmp_path / "out" / "gps.jpg"
    data = out_path.read_bytes()
    assert b"Jane" not in data and b"Exif" not in data
    out = Image.open(out_path)
    assert not out.getexif() and "icc_profile" not in out.info and "xmp" not in out.info
    assert out.size == (512, 400)  # orientation 6 applied: the 400x512 image is upright now


def test_multipage_tiff_round_trip_without_tags(tmp_path, photo):
    pages = [Image.fromarray(photo), Image.fromarray(photo[:, ::-1]).convert("L")]
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[315] = "Jane Private Artist"
    path = tmp_path / "scan.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:], tiffinfo=info)
    loaded = read_image(path)
    assert len(loaded.pages) == 2 and loaded.modes == ["RGB", "L"]
    out = tmp_path / "out.tif"
    write_image(out, loaded.pages, loaded.format, loaded.modes)
    assert b"Jane" not in out.read_bytes()
    again = read_image(out)
    assert len(again.pages) == 2 and again.modes == ["RGB", "L"]
    assert np.array_equal(again.pages[0], photo)


def test_mask_from_regions_with_padding_and_polygons():
    r = Region(FACE, (10.2, 20.7, 30.5, 40.0))
    m = build_mask([r], 100, 100)
    assert m[20, 10] and m[39, 30] and not m[40, 30] and not m[19, 10]
    assert build_mask([r], 100, 100, pad=5).sum() > m.sum()
    tri = Region("logo", (0, 0, 50, 50), polygon=((0, 0), (50, 0), (0, 50)))
    mt = build_mask([tri], 60, 60)
    assert mt[5, 5] and not mt[45, 45]
    assert build_mask([Region(FACE, (-10, -10, 1000, 5))], 20, 20).sum() == 20 * 5
