"""A privacy auditor's pass over the whole product: planted metadata never reaches an output, masked pixels never
reach an output, bad input fails closed (one line naming the file, no output, the others done, inputs untouched).

Every input is made here, small, with a planted name (``SECRET``) in every place its format allows.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import struct
import warnings
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pypdf
import pytest
from PIL import Image, ImageDraw, ImageFilter, PngImagePlugin, TiffImagePlugin

from redact.cli import main

SECRET = "Zelda Quixbury"
FAST = ["--detect", "faces", "--style", "box", "--device", "cpu"]


def invoke(cli_runner, *args):
    result = cli_runner.invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("redact: error:")]


def sha_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def texture(h=120, w=160, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8))
    return np.asarray(small.resize((w, h), Image.BICUBIC).filter(ImageFilter.GaussianBlur(2)))


def no_secret(data: bytes) -> bool:
    """Neither the bytes nor any zlib stream inside them (PNG chunks, PDF streams) hold the planted name."""
    if SECRET.encode() in data or SECRET.encode("utf-16-be") in data:
        return False
    for m in re.finditer(rb"\x78[\x01\x5e\x9c\xda]", data):
        try:
            if SECRET.encode() in zlib.decompressobj().decompress(data[m.start():], 1 << 24):
                return False
        except zlib.error:
            continue
    return True


# ---------------------------------------------------------------------------------------------- image metadata

def _xmp() -> bytes:
    return (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{SECRET} xmp</dc:creator>'
            f'</rdf:Description></rdf:RDF></x:xmpmeta>').encode()


def _exif() -> bytes:
    e = Image.Exif()
    e[0x013B] = f"{SECRET} artist"
    e[0x010E] = f"{SECRET} description"
    e[0x8298] = f"{SECRET} copyright"
    sub = e.get_ifd(0x8769)
    sub[0x9286] = b"ASCII\0\0\0" + f"{SECRET} user comment".encode()
    sub[0x927C] = f"{SECRET} maker note".encode()
    sub[0xA430] = f"{SECRET} camera owner"
    gps = e.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 1.0)})
    return e.tobytes()


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _jpeg_with_everything(path: Path, rgb: np.ndarray) -> None:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", exif=_exif(), icc_profile=b"\0" * 128 + f"{SECRET} icc".encode(),
                              xmp=_xmp(), comment=f"{SECRET} comment".encode(), quality=90)
    data = buf.getvalue()
    iptc = b"\x1c\x02\x50" + struct.pack(">H", len(SECRET) + 5) + f"{SECRET} iptc".encode()
    app13 = b"Photoshop 3.0\0" + b"8BIM\x04\x04\0\0" + struct.pack(">I", len(iptc)) + iptc + b"\0" * (len(iptc) % 2)
    thumb = io.BytesIO()  # a small unredacted copy of the picture, as an IFD1 thumbnail or a FlashPix preview holds
    Image.fromarray(rgb[::4, ::4]).save(thumb, "JPEG", comment=f"{SECRET} thumbnail".encode())
    path.write_bytes(data[:2] + _segment(0xED, app13) + _segment(0xE9, thumb.getvalue()) + data[2:])


def _png_with_everything(path: Path, rgb: np.ndarray) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", f"{SECRET} tEXt")
    info.add_itxt("Comment", f"{SECRET} iTXt", lang="en", tkey="c")
    info.add_text("Description", f"{SECRET} zTXt " * 10, zip=True)
    info.add_itxt("XML:com.adobe.xmp", _xmp().decode())
    Image.fromarray(rgb).save(path, "PNG", pnginfo=info, exif=_exif(), icc_profile=b"\0" * 128 + SECRET.encode())


def _tiff_with_everything(path: Path, rgb: np.ndarray) -> None:
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    for tag, text in ((315, "artist"), (270, "description"), (33432, "copyright"), (305, "software"),
                      (316, "host"), (269, "document"), (285, "page name")):
        tags[tag] = f"{SECRET} {text}"
    tags[700] = _xmp()
    pages = [Image.fromarray(rgb), Image.fromarray(rgb[:, ::-1]), Image.fromarray(rgb[::-1]).convert("L")]
    with TiffImagePlugin.AppendingTiffWriter(path, True) as tf:  # the tags on every page
        for page in pages:
            page.save(tf, "TIFF", tiffinfo=tags, icc_profile=b"\0" * 128 + SECRET.encode())
            tf.newFrame()


def _mpo_phone_jpeg(path: Path, rgb: np.ndarray) -> None:
    second = Image.fromarray(255 - rgb[::2, ::2])  # a depth or gain map: another unredacted picture of the scene
    Image.fromarray(rgb).save(path, "MPO", save_all=True, append_images=[second], comment=SECRET.encode())


def _png_chunks(data: bytes) -> list[bytes]:
    pos, kinds = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        kinds.append(kind)
        pos += 12 + length
    return kinds


def _jpeg_markers(data: bytes) -> list[int]:
    pos, markers = 2, []
    while pos < len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
    return markers


def test_no_image_metadata_survives_in_any_format(tmp_path, cli_runner):
    rgb = texture()
    src = tmp_path / "in"
    src.mkdir()
    _jpeg_with_everything(src / "photo.jpg", rgb)
    _png_with_everything(src / "photo.png", rgb)
    Image.fromarray(rgb).save(src / "photo.webp", "WEBP", exif=_exif(), xmp=_xmp(),
                              icc_profile=b"\0" * 128 + SECRET.encode(), quality=90)
    _tiff_with_everything(src / "scan.tif", rgb)
    _mpo_phone_jpeg(src / "phone.jpg", rgb)
    for p in src.iterdir():
        assert SECRET.encode() in p.read_bytes() or p.suffix == ".png", p  # planted (PNG's zTXt is compressed)
    before = sha_tree(src)
    out = tmp_path / "out"
    result = invoke(cli_runner, "images", src, "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    assert sha_tree(src) == before
    for p in src.iterdir():
        data = (out / p.name).read_bytes()
        assert no_secret(data), p.name
        im = Image.open(out / p.name)
        assert not {"icc_profile", "xmp", "exif", "comment"} & set(im.info), (p.name, im.info)
        assert im.format == "TIFF" or not im.getexif(), p.name  # a TIFF's own tags are checked below
    assert _png_chunks((out / "photo.png").read_bytes()) == [b"IHDR", b"IDAT", b"IEND"]
    for name in ("photo.jpg", "phone.jpg"):  # SOI, then only JFIF (APP0), tables, frame and scan headers
        assert set(_jpeg_markers((out / name).read_bytes())) <= {0xD8, 0xE0, 0xDB, 0xC4, 0xC0, 0xC2, 0xDA}, name
    phone = Image.open(out / "phone.jpg")
    assert phone.format == "JPEG" and getattr(phone, "n_frames", 1) == 1  # the second picture is gone
    webp = (out / "photo.webp").read_bytes()
    assert not any(kind in webp for kind in (b"EXIF", b"XMP ", b"ICCP"))
    tif = Image.open(out / "scan.tif")
    assert tif.n_frames == 3
    for i in range(3):
        tif.seek(i)
        assert not {270, 305, 315, 316, 269, 285, 700, 33432, 34377, 34665, 34853, 33723, 34675} & set(tif.tag_v2)


def test_phone_jpeg_with_more_pictures_is_redacted_not_refused(tmp_path):
    from pipelines.image_io import read_image

    _mpo_phone_jpeg(tmp_path / "phone.jpg", texture())
    loaded = read_image(tmp_path / "phone.jpg")
    assert loaded.format == "JPEG" and len(loaded.pages) == 1 and np.abs(
        loaded.pages[0].astype(int) - texture()).mean() < 8


def test_transparent_pixels_do_not_come_back_visible(tmp_path, cli_runner):
    """Content someone erased to full transparency (colour left under alpha 0) must not appear in the output."""
    im = Image.new("RGB", (360, 80), "white")
    ImageDraw.Draw(im).text((10, 25), f"{SECRET} 555-0199", fill="black", font_size=28)
    rgba = np.dstack([np.asarray(im), np.zeros((80, 360), np.uint8)])
    rgba[:4, :, 3] = 255  # only a thin strip is visible
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(rgba, "RGBA").save(src / "erased.png")
    Image.fromarray(rgba[..., [0, 3]], "LA").save(src / "erased_grey.png")
    result = invoke(cli_runner, "images", src, "-o", tmp_path / "out", *FAST)
    assert result.exit_code == 0, result.output
    for name in ("erased.png", "erased_grey.png"):
        out = np.asarray(Image.open(tmp_path / "out" / name).convert("RGB"))
        assert (out[4:] == 255).all(), name  # what a viewer showed: nothing (white)


def test_animated_png_and_webp_keep_every_frame_and_their_timing(tmp_path, cli_runner):
    frames = [Image.fromarray(np.full((48, 64, 3), 40 + 60 * i, np.uint8)) for i in range(3)]
    src = tmp_path / "in"
    src.mkdir()
    for name in ("anim.png", "anim.webp"):
        frames[0].save(src / name, save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0)
    result = invoke(cli_runner, "images", src, "-o", tmp_path / "out", *FAST)
    assert result.exit_code == 0, result.output
    for name in ("anim.png", "anim.webp"):
        out = Image.open(tmp_path / "out" / name)
        assert out.n_frames == 3, name
        durations = []
        for i in range(3):
            out.seek(i)
            out.load()
            durations.append(out.info.get("duration"))
            assert abs(int(np.asarray(out.convert("RGB")).mean()) - (40 + 60 * i)) <= 2, (name, i)
        assert durations == [100, 200, 300], (name, durations)


# ------------------------------------------------------------------------------------------------ PDF metadata

def _pdf_with_everything(path: Path) -> None:
    from pypdf.actions import JavaScript
    from pypdf.annotations import FreeText, Text
    from pypdf.generic import (ArrayObject, BooleanObject, DecodedStreamObject, DictionaryObject, FloatObject,
                               NameObject, TextStringObject)

    w = pypdf.PdfWriter()
    page = w.add_blank_page(200, 200)
    w.add_blank_page(200, 200)
    w.add_metadata({"/Author": f"{SECRET} author", "/Title": f"{SECRET} title", "/Subject": f"{SECRET} subject",
                    "/Keywords": f"{SECRET} keywords", "/Creator": f"{SECRET} creator"})
    xmp = DecodedStreamObject()
    xmp.set_data(_xmp())
    xmp.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    w._root_object[NameObject("/Metadata")] = w._add_object(xmp)
    w.add_annotation(0, Text(rect=(150, 150, 170, 170), text=f"{SECRET} sticky note"))
    w.add_annotation(1, FreeText(text="x", rect=(10, 100, 190, 140)))
    w.add_attachment("private.txt", f"{SECRET} attachment".encode())
    w.add_open_action(JavaScript(f'app.alert("{SECRET} script");'))
    w.add_outline_item(title=f"{SECRET} outline", page_number=0)
    w.set_page_label(0, 1, prefix="ZQ")
    field = DictionaryObject({
        NameObject("/FT"): NameObject("/Tx"), NameObject("/T"): TextStringObject("name"),
        NameObject("/V"): TextStringObject(f"{SECRET} field"), NameObject("/Type"): NameObject("/Annot"),
        NameObject("/Subtype"): NameObject("/Widget"), NameObject("/P"): page.indirect_reference,
        NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (10, 50, 190, 70)]),
        NameObject("/DA"): TextStringObject("/Helv 0 Tf 0 g")})
    ref = w._add_object(field)
    page[NameObject("/Annots")].append(ref)
    w._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): ArrayObject([ref]), NameObject("/NeedAppearances"): BooleanObject(True)})
    first = io.BytesIO()
    w.write(first)
    update = pypdf.PdfWriter(io.BytesIO(first.getvalue()), incremental=True)  # the old revision keeps the name
    update.add_metadata({"/Author": "Nobody"})
    second = io.BytesIO()
    update.write(second)
    path.write_bytes(second.getvalue())


def test_no_pdf_metadata_structure_or_old_revision_survives(tmp_path, cli_runner):
    src = tmp_path / "in.pdf"
    _pdf_with_everything(src)
    data = src.read_bytes()
    assert data.count(b"%%EOF") == 2 and SECRET.encode() in data
    before = hashlib.sha256(data).hexdigest()
    out = tmp_path / "out" / "out.pdf"
    result = invoke(cli_runner, "pdf", src, "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    written = out.read_bytes()
    assert no_secret(written) and written.count(b"%%EOF") == 1 and b"/Prev" not in written
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == 2
    assert set(reader.trailer["/Root"].keys()) == {"/Type", "/Pages"}
    assert set(reader.trailer.keys()) <= {"/Size", "/Root", "/ID"}
    assert reader.metadata is None and reader.xmp_metadata is None and not reader.outline
    for page in reader.pages:
        assert "/Annots" not in page and set(page["/Resources"].keys()) <= {"/XObject", "/Font"}
    assert no_secret((tmp_path / "out" / "audit.jsonl").read_bytes())


def test_a_poster_sized_pdf_page_is_rendered_smaller_quietly(tmp_path, cli_runner):
    src = tmp_path / "poster.pdf"
    w = pypdf.PdfWriter()
    w.add_blank_page(20000, 20000)
    w.write(src)
    out = tmp_path / "out.pdf"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = invoke(cli_runner, "pdf", src, "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ""
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]  # cron-quiet
    page = pypdf.PdfReader(out).pages[0]
    assert [float(v) for v in page.mediabox] == [0, 0, 20000, 20000]
    image = page["/Resources"]["/XObject"]["/Im1"]
    assert image["/Width"] * image["/Height"] <= 120_000_000


# ---------------------------------------------------------------------------------------------- video metadata

def _video_with_everything(path: Path, fmt: str, subtitle_codec: str, size=(64, 48), frames=6) -> None:
    c = av.open(str(path), "w", format=fmt)
    c.metadata.update({"title": f"{SECRET} title", "artist": f"{SECRET} artist", "comment": f"{SECRET} comment",
                       "description": f"{SECRET} description", "copyright": f"{SECRET} copyright",
                       "location": "+51.5000-000.1200/"})
    v = c.add_stream("libx264", rate=10)
    v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
    v.metadata.update({"title": f"{SECRET} video track", "handler_name": f"{SECRET} video handler"})
    a = c.add_stream("aac", rate=16000)
    a.metadata.update({"title": f"{SECRET} audio track", "handler_name": f"{SECRET} audio handler"})
    sub = c.add_mux_stream(subtitle_codec)
    sub.metadata["title"] = f"{SECRET} subtitle track"
    c.set_chapters([{"id": 1, "start": 0, "end": 500, "time_base": Fraction(1, 1000),
                     "metadata": {"title": f"{SECRET} chapter"}}])
    for i in range(frames):
        f = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), 40 + 20 * i, np.uint8), format="rgb24")
        f.pts = i
        c.mux(v.encode(f))
    c.mux(v.encode(None))
    n = a.codec_context.frame_size or 1024
    for k in range(12):
        af = av.AudioFrame.from_ndarray(np.zeros((1, n), np.float32), format="fltp", layout="mono")
        af.sample_rate, af.pts = 16000, k * n
        c.mux(a.encode(af))
    c.mux(a.encode(None))
    text = f"{SECRET} subtitle text".encode()
    packet = av.Packet(len(text).to_bytes(2, "big") + text if subtitle_codec == "mov_text" else text)
    packet.stream, packet.pts, packet.dts, packet.duration = sub, 0, 0, 500
    packet.time_base = sub.time_base or Fraction(1, 1000)
    c.mux(packet)
    c.close()


def test_video_metadata_subtitles_and_chapters_are_not_copied(tmp_path, cli_runner):
    src = tmp_path / "in"
    src.mkdir()
    _video_with_everything(src / "clip.mp4", "mp4", "mov_text")
    _video_with_everything(src / "clip2.mkv", "matroska", "subrip")
    with av.open(str(src / "clip.mp4")) as c:
        assert {s.type for s in c.streams} >= {"video", "audio", "subtitle"} and c.chapters()
    before = sha_tree(src)
    out = tmp_path / "out"
    result = invoke(cli_runner, "video", src, "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    assert sha_tree(src) == before
    for name in ("clip.mp4", "clip2.mp4"):
        assert no_secret((out / name).read_bytes()), name
        with av.open(str(out / name)) as c:
            assert [s.type for s in c.streams] == ["video", "audio"], name
            assert not c.chapters()
            assert set(c.metadata) <= {"major_brand", "minor_version", "compatible_brands", "encoder"}
            for s in c.streams:
                assert not any(SECRET in str(v) for v in s.metadata.values())


def test_an_image_named_like_a_video_fails(tmp_path, cli_runner):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(texture()).save(src / "holiday.mp4", "PNG")
    result = invoke(cli_runner, "video", src, "-o", tmp_path / "out", *FAST)
    assert result.exit_code == 1 and len(error_lines(result)) == 1 and "holiday.mp4" in error_lines(result)[0]
    assert not (tmp_path / "out" / "holiday.mp4").exists()


def test_a_video_with_enormous_frames_is_refused_before_decoding(tmp_path):
    from pipelines.video import probe
    from redact.core.errors import InputError

    src = tmp_path / "bomb.mp4"
    with av.open(str(src), "w") as c:
        v = c.add_stream("libx264", rate=1)
        v.width, v.height, v.pix_fmt = 12000, 10016, "yuv420p"
        v.options = {"preset": "ultrafast"}
        frame = av.VideoFrame(12000, 10016, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts = 0
        c.mux(v.encode(frame))
        c.mux(v.encode(None))
    with pytest.raises(InputError, match="too large"):
        probe(src)


# ----------------------------------------------------------------------------------------------- irreversibility

@pytest.fixture(scope="module")
def random_rfr_weights(tmp_path_factory):
    import torch

    from inpaint.checkpoint import save_checkpoint
    from inpaint.rfrnet import RFRNet

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("rfr") / "random.pth"
    save_checkpoint(path, RFRNet(32))
    return path


@pytest.mark.parametrize("ext, save", [("jpg", {"quality": 90, "subsampling": 0}), ("webp", {"lossless": True}),
                                       ("tif", {})])
def test_masked_pixels_never_reach_the_encoded_output(ext, save, tmp_path, cli_runner, random_rfr_weights):
    """Two inputs that decode the same outside the mask give byte-identical outputs, JPEG and WebP included."""
    x = texture(96, 128)
    mask = np.zeros(x.shape[:2], bool)
    mask[24:56, 40:88] = True  # whole 8x8 JPEG blocks (4:4:4), so the JPEG inputs differ only under the mask
    y = x.copy()
    y[mask] = np.random.default_rng(5).integers(0, 256, (int(mask.sum()), 3), dtype=np.uint8)
    Image.fromarray((mask * 255).astype(np.uint8)).save(tmp_path / "mask.png")
    Image.fromarray(x).save(tmp_path / f"a.{ext}", **save)
    Image.fromarray(y).save(tmp_path / f"b.{ext}", **save)
    decoded = [np.asarray(Image.open(tmp_path / f"{n}.{ext}").convert("RGB")) for n in "ab"]
    assert np.array_equal(decoded[0][~mask], decoded[1][~mask]) and not np.array_equal(decoded[0], decoded[1])
    styles = ["box", "telea", "ns"] + (["inpaint"] if ext == "jpg" else [])  # RFR-Net on the CPU: once
    for style in styles:
        extra = ["--weights", random_rfr_weights] if style == "inpaint" else []
        outs = []
        for n in "ab":
            out = tmp_path / f"{style}-{n}.{ext}"
            result = invoke(cli_runner, "inpaint", tmp_path / f"{n}.{ext}", "--mask", tmp_path / "mask.png", "-o", out,
                            "--style", style, "--device", "cpu", *extra)
            assert result.exit_code == 0, result.output
            outs.append(out.read_bytes())
        assert outs[0] == outs[1], style


# ------------------------------------------------------------------------------------------------- bad input

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 1000))
            + _chunk(b"IEND", b""))


def _bad_inputs(src: Path, outside: Path) -> dict[str, str]:
    """Bad files (name -> a part of its error message) in ``src``."""
    png = io.BytesIO()
    Image.fromarray(texture(64, 64)).save(png, "PNG")
    png = png.getvalue()
    jpg = io.BytesIO()
    Image.fromarray(texture(64, 64)).save(jpg, "JPEG")
    jpg = jpg.getvalue()
    (src / "empty.png").write_bytes(b"")
    (src / "truncated.png").write_bytes(png[: len(png) // 2])
    (src / "truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    (src / "png_content.jpg").write_bytes(png)
    (src / "noise.tif").write_bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    (src / "bomb.png").write_bytes(_png_header_only(100_000, 100_000))
    bomb = bytearray(jpg)
    sof = bomb.find(b"\xff\xc0")
    struct.pack_into(">HH", bomb, sof + 5, 60000, 60000)
    (src / "bomb.jpg").write_bytes(bytes(bomb))
    webp = io.BytesIO()
    Image.fromarray(texture(64, 64)).save(webp, "WEBP", lossless=True, exif=b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0")
    webp = bytearray(webp.getvalue())
    vp8x = webp.find(b"VP8X")
    webp[vp8x + 12:vp8x + 18] = (16382).to_bytes(3, "little") * 2  # canvas 16383 x 16383
    (src / "bomb.webp").write_bytes(bytes(webp))
    pages = [Image.new("1", (10000, 10000), 1) for _ in range(11)]  # 1.1 gigapixels in 11 small pages
    pages[0].save(src / "bomb_pages.tif", save_all=True, append_images=pages[1:], compression="group4")
    (src / "bad\nname.png").write_bytes(b"not a png")
    (outside / "notes.txt").write_text("not an image")
    os.symlink(outside / "notes.txt", src / "link_outside.png")
    return {"empty.png": "empty file", "truncated.png": "truncated", "truncated.jpg": "truncated",
            "png_content.jpg": "extension says JPEG but the content is PNG", "noise.tif": "not an image",
            "bomb.png": "too large", "bomb.jpg": "too large", "bomb.webp": "too large",
            "bomb_pages.tif": "1,100 megapixels", "bad\\nname.png": "not an image", "link_outside.png": "not an image"}


def test_bad_images_fail_closed_one_line_each_and_the_rest_is_done(tmp_path, cli_runner):
    src, outside = tmp_path / "in", tmp_path / "elsewhere"
    (src / "sub").mkdir(parents=True)
    outside.mkdir()
    expected = _bad_inputs(src, outside)
    good = ["good.png", "name with space ü.png", "new\nline.png", "sub/good.jpg", "many_pages.tif"]
    for name in good[:3]:
        Image.fromarray(texture(64, 64)).save(src / name, "PNG")
    Image.fromarray(texture(64, 64)).save(src / "sub" / "good.jpg")
    small = [Image.fromarray(np.full((32, 32), i % 256, np.uint8)) for i in range(1000)]
    small[0].save(src / "many_pages.tif", save_all=True, append_images=small[1:], compression="tiff_deflate")
    (src / "folder.png").mkdir()  # a directory named like a file: not a file, not planned
    before = sha_tree(src)
    out = tmp_path / "out"
    result = invoke(cli_runner, "images", src, "-o", out, *FAST)
    assert result.exit_code == 1
    errors = error_lines(result)
    assert len(errors) == len(expected), result.output
    for name, message in expected.items():
        line = next((e for e in errors if f"in/{name}:" in e), None)
        assert line is not None and message in line, (name, result.output)
        assert not (out / name.replace("\\n", "\n")).exists()
    for name in good:
        assert (out / name).is_file(), name
    assert Image.open(out / "many_pages.tif").n_frames == 1000
    outputs = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert outputs == set(good) | {"audit.jsonl"}  # no temporary file left behind
    assert sha_tree(src) == before


def test_a_page_between_pil_warning_and_our_limit_is_read(tmp_path):
    from pipelines.image_io import read_image

    path = tmp_path / "big.png"  # 95 MP: above PIL's 89 MP warning, below the documented 120 MP limit
    Image.new("1", (10000, 9500), 1).save(path)
    loaded = read_image(path)
    assert loaded.pages[0].shape == (9500, 10000, 3)


def test_an_input_linking_into_the_output_folder_is_refused(tmp_path, cli_runner):
    originals, src = tmp_path / "originals", tmp_path / "in"
    originals.mkdir()
    src.mkdir()
    _png_with_everything(originals / "photo.png", texture())
    os.symlink(originals / "photo.png", src / "photo.png")
    before = sha_tree(originals)
    result = invoke(cli_runner, "images", src, "-o", originals, *FAST)
    assert result.exit_code == 2 and "inside the output folder" in result.output
    assert sha_tree(originals) == before


def test_two_inputs_with_one_output_name_are_refused(tmp_path, cli_runner):
    for folder in ("x/scans", "y/scans"):
        (tmp_path / folder).mkdir(parents=True)
        Image.fromarray(texture()).save(tmp_path / folder / "page.png")
    result = invoke(cli_runner, "run", tmp_path / "x/scans", tmp_path / "y/scans", "-o", tmp_path / "out", *FAST)
    assert result.exit_code == 2 and "would both be written to" in result.output
    assert not list((tmp_path / "out").rglob("*.png"))


def test_a_planted_temporary_link_is_not_written_through(tmp_path, cli_runner):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    Image.fromarray(texture()).save(src / "photo.png")
    victim = tmp_path / "victim.txt"
    victim.write_text("must stay")
    os.symlink(victim, out / ".photo.redact-tmp.png")
    result = invoke(cli_runner, "images", src, "-o", out, *FAST)
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "must stay"
    assert Image.open(out / "photo.png").size == (160, 120)


def test_terms_are_not_written_to_the_audit_or_the_report(tmp_path, cli_runner):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(texture()).save(src / "photo.png")
    (tmp_path / "terms.txt").write_text(f"{SECRET}\n")
    (tmp_path / "allow.txt").write_text("Acme Staff Member\n")
    out = tmp_path / "out"
    result = invoke(cli_runner, "images", src, "-o", out, *FAST, "--terms", tmp_path / "terms.txt",
                    "--allow", tmp_path / "allow.txt")
    assert result.exit_code == 0, result.output
    result = invoke(cli_runner, "report", out / "audit.jsonl", "-o", out / "report.html")
    assert result.exit_code == 0, result.output
    for path in (out / "audit.jsonl", out / "report.html"):
        text = path.read_text()
        assert SECRET not in text and "Acme Staff" not in text, path.name
    job = json.loads((out / "audit.jsonl").read_text().splitlines()[0])
    assert job["settings"]["terms"] == "1 string(s), not recorded"


def test_bad_videos_fail_closed_one_line_each(tmp_path, cli_runner):
    src = tmp_path / "in"
    src.mkdir()
    with av.open(str(src / "tiny.mp4"), "w") as c:  # 1 x 1 pixels: a valid video, redacted
        v = c.add_stream("libx264", rate=5)
        v.width, v.height, v.pix_fmt = 1, 1, "yuv444p"
        for i in range(3):
            f = av.VideoFrame.from_ndarray(np.full((1, 1, 3), 90, np.uint8), format="rgb24")
            f.pts = i
            c.mux(v.encode(f))
        c.mux(v.encode(None))
    with av.open(str(src / "voice.mp4"), "w") as c:  # audio only
        a = c.add_stream("aac", rate=16000)
        for k in range(4):
            af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            af.sample_rate, af.pts = 16000, k * 1024
            c.mux(a.encode(af))
        c.mux(a.encode(None))
    (src / "empty.mov").write_bytes(b"")
    (src / "text.mkv").write_bytes(b"hello world " * 100)
    whole = (src / "tiny.mp4").read_bytes()
    (src / "cut.mp4").write_bytes(whole[: len(whole) // 3])
    before = sha_tree(src)
    out = tmp_path / "out"
    result = invoke(cli_runner, "video", src, "-o", out, *FAST)
    assert result.exit_code == 1
    errors = error_lines(result)
    assert len(errors) == 4, result.output
    for name, message in (("voice.mp4", "no video stream"), ("empty.mov", "empty"), ("text.mkv", "video"),
                          ("cut.mp4", "video")):
        assert any(f"in/{name}:" in e and message in e for e in errors), (name, result.output)
    assert sorted(p.name for p in out.iterdir()) == ["audit.jsonl", "tiny.mp4"]
    with av.open(str(out / "tiny.mp4")) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (1, 1)
    assert sha_tree(src) == before
