"""Unattended runs: `redact run` killed and resumed, the output lock, incremental reruns, the config file, mixed
folders with corrupt files, and the audit report (rendered by a real headless Chromium).

Real inputs throughout: resized copies of samples/photos, shared real documents and videos, and corrupt files
made from real ones. Runs that must be killed or must overlap run in subprocesses; the others in-process.
"""
from __future__ import annotations

import base64
import csv
import importlib.util
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, SAMPLES, shared
from pipelines.directory import TEMP_MARK
from redact.audit import read_records
from redact.cli import main
from redact.core.errors import ExitCode

PHOTOS = sorted(p for p in (SAMPLES / "photos").iterdir() if p.suffix.lower() in (".jpg", ".png", ".webp"))
REDACT = [sys.executable, "-m", "redact.cli"]


def make_photo_folder(folder: Path, n: int, sides=(160, 300)) -> list[Path]:
    """``n`` small real photos (resized copies of the samples, each a different size, so different content)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        src = PHOTOS[i % len(PHOTOS)]
        side = sides[0] + (sides[1] - sides[0]) * i // max(1, n - 1)
        im = Image.open(src).convert("RGB")
        im.thumbnail((side, side))
        path = folder / f"{i // 10:02d}" / f"{src.stem}_{i:03d}{'.jpg' if i % 2 else '.png'}"
        path.parent.mkdir(exist_ok=True)
        im.save(path)
        out.append(path)
    return out


def file_records(audit: Path, status: str | None = None) -> list[dict]:
    recs = [r for r in read_records(audit) if r["type"] == "file"]
    return [r for r in recs if status is None or r["status"] == status]


def last_run(audit: Path) -> list[dict]:
    """The records of the audit's last run (from its last ``job`` record)."""
    recs = read_records(audit)
    start = max(i for i, r in enumerate(recs) if r["type"] == "job")
    return recs[start:]


def outputs_of(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                  if p.is_file() and not p.name.startswith(".") and p.name != "audit.jsonl")


def count_ok(audit: Path) -> int:
    try:
        return audit.read_bytes().count(b'"status": "ok"')
    except FileNotFoundError:
        return 0


def invoke(cli_runner, *args):
    return cli_runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------------------------------------ kill -9 + lock


def test_killed_run_resumes_without_redoing_and_a_concurrent_run_is_locked_out(tmp_path):
    inputs = make_photo_folder(tmp_path / "in", 40, sides=(140, 260))
    out = tmp_path / "out"
    audit = out / "audit.jsonl"
    cmd = REDACT + ["run", str(tmp_path / "in"), "-o", str(out), "--detect", "faces", "--style", "telea"]  # state, not fills
    first = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while count_ok(audit) < 6:
            assert first.poll() is None, f"run ended before it could be killed: {first.communicate()}"
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.02)

        # A second run over the same output while the first one runs: refused at once with its own exit code.
        t0 = time.monotonic()
        second = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == ExitCode.LOCKED, second.stderr
        assert "another redact run is using the output folder" in second.stderr
        assert f"pid {first.pid}" in second.stderr
        assert time.monotonic() - t0 < 15
        assert first.poll() is None, "the first run had finished: the refusal was not concurrent"
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    assert first.returncode == -signal.SIGKILL

    done_before = {r["input"] for r in file_records(audit, "ok")}
    assert 6 <= len(done_before) < len(inputs), "the kill did not land mid-way"
    temps_after_kill = [p for p in out.rglob(f"*{TEMP_MARK}*")]

    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == ExitCode.OK, rerun.stderr
    assert rerun.stderr == "", "a successful unattended run prints nothing"

    # Every output exists once, no temporary file is left, the same tree as the inputs.
    expected = sorted(p.relative_to(tmp_path / "in").as_posix() for p in inputs)
    assert outputs_of(out) == expected
    assert not list(out.rglob(f"*{TEMP_MARK}*"))
    if temps_after_kill:
        assert last_run(audit)[0]["leftover_temp_files_removed"] == len(temps_after_kill)
    # Finished files were not redone: each input was redacted exactly once across both runs, and the rerun
    # skipped exactly the files the killed run had finished.
    ok = [r["input"] for r in file_records(audit, "ok")]
    assert sorted(ok) == sorted(str(p) for p in inputs)
    skipped = {r["input"] for r in last_run(audit) if r["type"] == "file" and r["status"] == "skipped"}
    assert skipped == done_before
    check = subprocess.run(REDACT + ["audit", "verify", str(audit)], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr + check.stdout
    assert "chain intact" in check.stdout


# ------------------------------------------------------------------------------------------------ incremental reruns


def test_rerun_skips_unchanged_files_and_redoes_changed_settings_content_and_force(tmp_path, cli_runner):
    inputs = make_photo_folder(tmp_path / "in", 6, sides=(200, 260))
    out = tmp_path / "out"
    audit = out / "audit.jsonl"
    args = ["run", tmp_path / "in", "-o", out, "--detect", "faces", "--style", "telea"]  # state, not fills
    assert invoke(cli_runner, *args).exit_code == 0
    assert len(file_records(audit, "ok")) == 6
    mtimes = {p: (out / p).stat().st_mtime_ns for p in outputs_of(out)}

    # Nothing changed: no file is redone, nothing is rewritten, and it says so.
    r = invoke(cli_runner, *args, "--log-json")
    assert r.exit_code == 0
    said = [json.loads(line) for line in r.stderr.splitlines()]
    assert any(m["message"].startswith("nothing to do: all 6 file(s) are unchanged") for m in said)
    statuses = [x["status"] for x in last_run(audit) if x["type"] == "file"]
    assert statuses == ["skipped"] * 6
    assert last_run(audit)[-1] == {**last_run(audit)[-1], "files_ok": 0, "files_skipped": 6}
    assert {p: (out / p).stat().st_mtime_ns for p in mtimes} == mtimes

    # Changed settings: every file is redone, with the new fingerprint.
    fp_before = file_records(audit, "ok")[0]["fingerprint"]
    assert invoke(cli_runner, *args, "--pad", "6").exit_code == 0
    redone = [x for x in last_run(audit) if x["type"] == "file"]
    assert [x["status"] for x in redone] == ["ok"] * 6
    assert {x["fingerprint"] for x in redone} != {fp_before}
    assert invoke(cli_runner, *args, "--pad", "6").exit_code == 0  # and then they are up to date again
    assert [x["status"] for x in last_run(audit) if x["type"] == "file"] == ["skipped"] * 6

    # Changed content: only that file is redone. A deleted output is made again.
    Image.open(PHOTOS[0]).convert("RGB").resize((180, 150)).save(inputs[2])
    (out / inputs[4].relative_to(tmp_path / "in")).unlink()
    assert invoke(cli_runner, *args, "--pad", "6").exit_code == 0
    redone = {x["input"] for x in last_run(audit) if x["type"] == "file" and x["status"] == "ok"}
    assert redone == {str(inputs[2]), str(inputs[4])}

    # --force redoes everything.
    assert invoke(cli_runner, *args, "--pad", "6", "--force").exit_code == 0
    assert [x["status"] for x in last_run(audit) if x["type"] == "file"] == ["ok"] * 6
    check = invoke(cli_runner, "audit", "verify", audit)
    assert check.exit_code == 0 and "chain intact" in check.output


def test_config_file_holds_the_options_and_the_command_line_overrides_it(tmp_path, cli_runner):
    make_photo_folder(tmp_path / "in", 2, sides=(200, 220))
    out = tmp_path / "out"
    config = tmp_path / "redact.toml"
    config.write_text(f'inputs = ["{tmp_path / "in"}"]\noutput = "{out}"\ndetect = ["faces"]\nstyle = "box"\n'
                      f"pad = 5\nface-threshold = 0.8\n")
    assert invoke(cli_runner, "run", "--config", config).exit_code == 0
    job = [r for r in read_records(out / "audit.jsonl") if r["type"] == "job"][-1]
    assert job["settings"]["style"] == "box" and job["settings"]["pad"] == 5.0
    assert job["settings"]["detect"] == ["faces"] and job["settings"]["face_threshold"] == 0.8
    assert len(outputs_of(out)) == 2

    assert invoke(cli_runner, "run", "--config", config, "--style", "telea").exit_code == 0
    job = [r for r in read_records(out / "audit.jsonl") if r["type"] == "job"][-1]
    assert job["settings"]["style"] == "telea" and job["settings"]["pad"] == 5.0
    assert [r["status"] for r in last_run(out / "audit.jsonl") if r["type"] == "file"] == ["ok", "ok"]

    config.write_text('output = "x"\nstlye = "box"\n')
    r = invoke(cli_runner, "run", tmp_path / "in", "--config", config)
    assert r.exit_code == ExitCode.USAGE
    assert "unknown key 'stlye'" in r.stderr
    config.write_text('pad = "wide"\n')
    r = invoke(cli_runner, "run", tmp_path / "in", "-o", out, "--config", config)
    assert r.exit_code == ExitCode.USAGE and "'pad' must be a number" in r.stderr


# ------------------------------------------------------------------------------------------------ mixed folder + report


def first_frames(src: Path, dst: Path, n: int) -> None:
    """The first ``n`` frames of a real video, re-encoded (a short real clip keeps the test fast)."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        enc = out.add_stream("libx264", rate=30)
        enc.width, enc.height, enc.pix_fmt = stream.width, stream.height, "yuv420p"
        for i, frame in enumerate(inp.decode(stream)):
            if i == n:
                break
            for packet in enc.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")):
                out.mux(packet)
        for packet in enc.encode():
            out.mux(packet)


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """A real mixed folder with corrupt files, run once through `redact run` (subprocess) and reported."""
    base = tmp_path_factory.mktemp("mixed")
    src = base / "in"
    (src / "photos").mkdir(parents=True)
    (src / "scans").mkdir()
    good = []
    for p in PHOTOS:
        shutil.copy(p, src / "photos" / p.name)
        good.append(src / "photos" / p.name)
    page = Image.open(shared("docs/ocrmypdf_linn.png")).convert("L")
    page.thumbnail((900, 900))
    page.save(src / "scans" / "linn_page.png")
    good.append(src / "scans" / "linn_page.png")
    if importlib.util.find_spec("pipelines.pdf"):
        shutil.copy(shared("docs/ocrmypdf_linn.pdf"), src / "scans" / "linn.pdf")
        good.append(src / "scans" / "linn.pdf")
    if importlib.util.find_spec("pipelines.video"):
        first_frames(shared("videos/pyfeat_single_face.mp4"), src / "single_face.mp4", 12)
        good.append(src / "single_face.mp4")
    real_jpeg = PHOTOS[0].read_bytes()
    bad = {
        src / "photos" / "truncated.jpg": real_jpeg[: len(real_jpeg) // 3],
        src / "scans" / "notes.png": b"minutes of the meeting, not an image\n",
        src / "scans" / "empty.jpg": b"",
        src / "scans" / "broken.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n% cut off here",
        src / "clip.mp4": real_jpeg[:4096],
    }
    for path, data in bad.items():
        path.write_bytes(data)
    out = base / "out"
    run = subprocess.run(REDACT + ["run", str(src), "-o", str(out), "--detect", "faces"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    report = subprocess.run(REDACT + ["report", str(out / "audit.jsonl"), "-o", str(base / "report.html"),
                                      "--csv", str(base / "report.csv")], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert report.returncode == 0, report.stderr
    return {"base": base, "src": src, "out": out, "good": good, "bad": list(bad), "run": run}


def test_mixed_folder_good_files_come_out_bad_ones_are_listed_with_reasons(mixed_run):
    run, src, out = mixed_run["run"], mixed_run["src"], mixed_run["out"]
    assert run.returncode == ExitCode.FILES_FAILED
    for path in mixed_run["bad"]:  # one line per failed file on stderr, naming it, and no output
        line = next(x for x in run.stderr.splitlines() if str(path) in x)
        assert line.startswith("redact: error: ") and "Traceback" not in run.stderr
    assert outputs_of(out) == sorted(p.relative_to(src).as_posix() for p in mixed_run["good"])

    rows = {r["input"]: r for r in csv.DictReader(open(mixed_run["base"] / "report.csv"))}
    assert set(rows) == {str(p) for p in mixed_run["good"] + mixed_run["bad"]}
    for path in mixed_run["bad"]:
        assert rows[str(path)]["status"] == "failed" and rows[str(path)]["reason"], rows[str(path)]
    assert rows[str(src / "scans" / "empty.jpg")]["reason"] == "empty file"
    for path in mixed_run["good"]:
        assert rows[str(path)]["status"] == "redacted" and rows[str(path)]["output_sha256"]
    faces = sum(int(rows[str(p)]["face"]) for p in mixed_run["good"])
    assert faces >= 10  # 5 + 4 + 1 + 1 faces in the sample photos


def test_a_job_without_a_style_paints_with_the_shipped_rfrnet_models(mixed_run):
    """The default style is RFR-Net with the shipped weights: every region of the mixed run (photos, a scanned page,
    a PDF, a video) was filled by `inpaint`, with the page and photo models the loader checked."""
    from inpaint.rfr_fill import RFRFill

    regions = [r for r in read_records(mixed_run["out"] / "audit.jsonl") if r["type"] in ("region", "track")]
    assert len(regions) >= 10
    assert {r["style"] for r in regions} == {"inpaint"}
    assert {r["model"] for r in regions} == {RFRFill().model_id}


def test_report_renders_in_chromium_and_shows_every_file_and_failure(mixed_run, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it)")
    page = mixed_run["base"] / "report.html"
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    assert "Audit chain verified" in dom
    for path in mixed_run["good"] + mixed_run["bad"]:
        assert str(path) in dom, f"{path} missing from the rendered report"
    assert "empty file" in dom and "not an image file" in dom
    assert f"Failures ({len(mixed_run['bad'])})" in dom
    assert len(re.findall(r'<svg class="thumb"', dom)) == len(mixed_run["good"])
    assert "http://" not in dom.replace("http://www.w3.org/2000/svg", "") and "https://" not in dom


def test_report_thumbnails_show_the_redacted_output_never_the_original(mixed_run):
    from redact.report import build_report

    data = build_report(mixed_run["out"] / "audit.jsonl")
    entry = next(f for f in data.files if f.input.endswith("pyfeat_multi_face_5faces.jpg"))
    assert entry.kinds["face"] >= 4 and entry.thumbnail.count("<rect ") == len(entry.regions)
    uri = re.search(r'href="data:image/jpeg;base64,([^"]+)"', entry.thumbnail).group(1)
    thumb = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri))).convert("RGB")).astype(float)
    th, tw = thumb.shape[:2]

    def small(path):
        return np.asarray(Image.open(path).convert("RGB").resize((tw, th), Image.LANCZOS)).astype(float)

    redacted, original = small(entry.output), small(entry.input)
    s = tw / Image.open(entry.input).size[0]
    inside = np.zeros((th, tw), bool)
    for r in entry.regions:
        x0, y0, x1, y1 = (int(v * s) for v in r["box"])
        inside[max(0, y0) + 2: y1 - 2, max(0, x0) + 2: x1 - 2] = True
    to_output = np.abs(thumb - redacted)[inside].mean()
    to_original = np.abs(thumb - original)[inside].mean()
    assert to_output < 6 and to_original > 2 * to_output, (to_output, to_original)


def test_report_of_a_tampered_audit_says_so_and_exits_1(mixed_run, tmp_path, cli_runner):
    lines = (mixed_run["out"] / "audit.jsonl").read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if '"type": "region"' in line)
    lines[i] = lines[i].replace('"kind": "face"', '"kind": "logo"')  # someone edits what was removed
    tampered = tmp_path / "audit.jsonl"
    tampered.write_text("\n".join(lines) + "\n")
    r = invoke(cli_runner, "report", tampered, "-o", tmp_path / "r.html")
    assert r.exit_code == ExitCode.FILES_FAILED
    page = (tmp_path / "r.html").read_text()
    assert "Audit chain does NOT verify" in page and f"line {i + 1}: record was altered" in page


def test_a_kill_between_the_audit_record_and_the_state_record_does_not_redo_the_file(tmp_path, cli_runner):
    """The one window where the audit says done and the state does not: the next run recovers it from the audit."""
    from redact.audit import sha256_file
    from redact.core.console import Console
    from redact.job import Job
    from redact.core.settings import Settings
    from redact.state import JobState

    src = make_photo_folder(tmp_path / "in", 1, sides=(220, 220))[0]
    out = tmp_path / "out"
    dst = out / src.relative_to(tmp_path / "in")
    state = JobState(out)
    job = Job(Settings(detect=("faces",)), out / "audit.jsonl", Console(), "run", state=state)
    assert job.process(src, dst, input_sha256=sha256_file(src)).status == "ok"
    job.audit.close()  # the process dies here: no end record ...
    state._db.execute("DELETE FROM done")  # ... and the state commit after the audit record never happened
    state.close()

    assert invoke(cli_runner, "run", tmp_path / "in", "-o", out, "--detect", "faces").exit_code == 0
    assert [r["status"] for r in file_records(out / "audit.jsonl")] == ["ok", "skipped"]
