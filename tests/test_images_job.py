"""The directory job on real photos: every face is covered, checked independently, and bad input fails closed."""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import SAMPLES, load_rgb, shared
from redact.audit import read_records, verify

REDACT = [sys.executable, "-m", "redact.cli"]


def run_cli(*args, cwd=None):
    return subprocess.run(REDACT + [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=600)


def covered(before: np.ndarray, after: np.ndarray, x: float, y: float, r: int = 3) -> bool:
    """The patch around (x, y) changed: the landmark is no longer what it was."""
    h, w = before.shape[:2]
    x0, x1 = max(0, int(x) - r), min(w, int(x) + r + 1)
    y0, y1 = max(0, int(y) - r), min(h, int(y) + r + 1)
    diff = np.abs(before[y0:y1, x0:x1].astype(int) - after[y0:y1, x0:x1].astype(int))
    return diff.mean() > 8


@pytest.fixture(scope="module")
def photo_job(tmp_path_factory):
    """The README's image job over samples/photos plus the 5-face photo from shared data."""
    src = tmp_path_factory.mktemp("in")
    for p in (SAMPLES / "photos").iterdir():
        shutil.copy(p, src / p.name)
    shutil.copy(shared("faces/pyfeat_multi_face_5faces.jpg"), src / "sub_five.jpg")
    (src / "nested").mkdir()
    shutil.copy(shared("faces/pyfeat_single_face.jpg"), src / "nested" / "single.jpg")
    out = tmp_path_factory.mktemp("out") / "redacted"
    proc = run_cli("images", src, "-o", out, "--style", "telea")
    return src, out, proc


def test_every_face_is_covered_independent_check(photo_job, face_detector):
    src, out, proc = photo_job
    assert proc.returncode == 0, proc.stderr
    inputs = sorted(p for p in src.rglob("*") if p.is_file())
    assert len(inputs) == 6
    total_faces = 0
    for p in inputs:
        o = out / p.relative_to(src)
        assert o.exists(), f"no output for {p.name}"
        before, after = load_rgb(p), load_rgb(o)
        assert before.shape == after.shape
        faces_in = [f for f in face_detector.faces([before])[0] if f.score > 0.9]
        faces_out = [f for f in face_detector.faces([after])[0] if f.score > 0.9]
        total_faces += len(faces_in)
        for f in faces_in:
            # no confident face in the output where the input had one
            for g in faces_out:
                ix = max(0, min(f.box[2], g.box[2]) - max(f.box[0], g.box[0]))
                iy = max(0, min(f.box[3], g.box[3]) - max(f.box[1], g.box[1]))
                assert ix * iy < 0.2 * (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), f"face survives in {p.name}"
            # and every landmark (eyes, nose, mouth corners) is covered
            for x, y in f.landmarks:
                assert covered(before, after, x, y), f"landmark at {x:.0f},{y:.0f} visible in {p.name}"
    assert total_faces >= 5 + 1 + 3  # five-face photo, single face, samples


def test_five_faces_photo_has_five_face_regions(photo_job):
    src, out, _ = photo_job
    recs = read_records(out / "audit.jsonl")
    faces = [r for r in recs if r["type"] == "region" and r["file"].endswith("sub_five.jpg")]
    assert len(faces) >= 5 and all(r["kind"] == "face" and r["detector"] == "faces" for r in faces)


def test_output_mirrors_tree_and_formats(photo_job):
    src, out, _ = photo_job
    for p in src.rglob("*"):
        if p.is_file():
            o = out / p.relative_to(src)
            assert Image.open(o).format == Image.open(p).format


def test_audit_records_files_and_chain(photo_job):
    src, out, _ = photo_job
    audit = out / "audit.jsonl"
    ok, n, msg = verify(audit)
    assert ok, msg
    recs = read_records(audit)
    files = [r for r in recs if r["type"] == "file"]
    assert len(files) == 6 and all(r["status"] == "ok" and len(r["input_sha256"]) == 64
                                   and len(r["output_sha256"]) == 64 for r in files)
    assert recs[0]["type"] == "job" and recs[-1]["type"] == "end"
    # tampering with any record breaks the chain
    lines = audit.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["score"] = 0.5
    lines[1] = json.dumps(rec)
    bad = audit.with_name("tampered.jsonl")
    bad.write_text("\n".join(lines) + "\n")
    assert not verify(bad)[0]
    assert run_cli("audit", "verify", bad).returncode == 1
    assert run_cli("audit", "verify", audit).returncode == 0


def _bomb_png(path: Path, w: int = 50_000, h: int = 50_000) -> None:
    """A tiny PNG whose header claims w x h pixels."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
                     + chunk(b"IEND", b""))


def test_bad_inputs_fail_closed_one_line_each(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = load_rgb(SAMPLES / "photos" / "facexlib_test.jpg")
    Image.fromarray(good).save(src / "good.jpg")
    (src / "empty.jpg").write_bytes(b"")
    data = (src / "good.jpg").read_bytes()
    (src / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (src / "text.png").write_text("this is not an image\n")
    _bomb_png(src / "bomb.png")
    (src / "minutes.docx").write_bytes(b"PK\x03\x04 not ours")
    out = tmp_path / "out"
    proc = run_cli("images", src, "-o", out, "--style", "box")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    # a file of another type is neither redacted nor copied, and the user is told so in one line
    assert [l for l in proc.stderr.splitlines() if "not redacted and not copied" in l and "minutes.docx" in l]
    assert not (out / "minutes.docx").exists()
    err_lines = [l for l in proc.stderr.splitlines() if "error" in l]
    for name in ("empty.jpg", "truncated.jpg", "text.png", "bomb.png"):
        mine = [l for l in err_lines if name in l]
        assert len(mine) == 1, (name, proc.stderr)
        assert not (out / name).exists()
    assert (out / "good.jpg").exists()
    assert not [p for p in out.iterdir() if "redact-tmp" in p.name]
    recs = [r for r in read_records(out / "audit.jsonl") if r["type"] == "file"]
    failed = {Path(r["input"]).name: r["error"] for r in recs if r["status"] == "failed"}
    assert set(failed) == {"empty.jpg", "truncated.jpg", "text.png", "bomb.png"}
    assert "too large" in failed["bomb.png"] and "empty" in failed["empty.jpg"]
    assert all(failed.values())


def test_output_inside_input_is_refused(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES / "photos" / "facexlib_test.jpg", src)
    proc = run_cli("images", src, "-o", src / "out")
    assert proc.returncode == 2 and "overlaps" in proc.stderr
    assert sorted(p.name for p in src.iterdir()) == ["facexlib_test.jpg"]


def test_exit_code_zero_when_nothing_fails(photo_job):
    assert photo_job[2].returncode == 0
