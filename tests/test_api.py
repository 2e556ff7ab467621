"""The library API, the command line in process and as a subprocess, and failures planted through the registry.

The failing detector and fill come from a separate package found through its entry points (``fault_plugins``):
the way a third-party detector is found. A failure in the middle of a file (an image, page 3 of a PDF, frame 50
of a video) must leave no output for it, one audit error record, and exit code 1.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from conftest import ROOT, SAMPLES
from fault_plugins import FAIL_AT_VARIABLE, install

PHOTO = SAMPLES / "photos" / "skimage_astronaut.png"
VIDEO = SAMPLES / "videos" / "pyfeat_single_face.mp4"


@pytest.fixture(scope="module")
def plugins(tmp_path_factory):
    folder = install(tmp_path_factory.mktemp("site"))
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))


@pytest.fixture
def fail_at(monkeypatch):
    def set_index(index: int) -> None:
        monkeypatch.setenv(FAIL_AT_VARIABLE, str(index))

    return set_index


@pytest.fixture(scope="module")
def five_page_pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "five.pdf"
    c = canvas.Canvas(str(path), pagesize=(300, 400))
    for page in range(5):
        c.drawString(40, 300, f"Page {page + 1} of a plain document")
        c.showPage()
    c.save()
    return path


def file_records(audit: Path) -> list[dict]:
    return [r for r in map(json.loads, audit.read_text().splitlines()) if r["type"] == "file"]


def assert_failed_closed(out_dir: Path, audit: Path, message: str) -> None:
    """No output and no temporary file anywhere under out_dir; one file record, failed, naming the failure."""
    leftovers = [p for p in out_dir.rglob("*") if p.is_file() and p.name not in (audit.name, ".redact.lock")
                 and not p.name.startswith(".redact-state")]
    assert leftovers == []
    records = file_records(audit)
    assert [(r["status"], r["output"]) for r in records] == [("failed", None)]
    assert message in records[0]["error"]


# --- registry: names, settings validation and CLI choices come from it ---------------------------------------

def test_third_party_detector_and_fill_are_found_through_their_entry_points(plugins):
    from redact.core.registry import DETECTORS, FILLS
    from redact.core.settings import parse_detect

    assert DETECTORS.names()[:5] == ("faces", "names", "pii", "logos", "failing")
    assert FILLS.names()[-1] == "failing"
    assert parse_detect("faces,failing") == ("faces", "failing")
    assert DETECTORS.factory("failing")(None, "cpu").name == "failing"


def test_unknown_names_are_usage_errors_listing_the_registered_ones(cli_runner, tmp_path):
    from redact.cli import main
    from redact.core.errors import ExitCode

    result = cli_runner.invoke(main, ["run", str(PHOTO), "-o", str(tmp_path / "o"), "--detect", "faces,plates"])
    assert result.exit_code == ExitCode.USAGE
    assert "unknown detector(s) plates; choose from faces, names, pii, logos" in result.output
    result = cli_runner.invoke(main, ["run", str(PHOTO), "-o", str(tmp_path / "o"), "--style", "smudge"])
    assert result.exit_code == ExitCode.USAGE and "inpaint" in result.output


# --- API in process --------------------------------------------------------------------------------------------

def test_api_redacts_a_folder_and_returns_a_report(tmp_path):
    import redact

    report = redact.redact_paths([PHOTO], tmp_path / "out", redact.Settings(style="box", detect=("faces",)))
    assert (report.ok, report.failed, report.skipped, report.exit_code) == (1, 0, 0, redact.ExitCode.OK)
    assert report.audit == tmp_path / "out" / "audit.jsonl"
    again = redact.redact_paths([PHOTO], tmp_path / "out", redact.Settings(style="box", detect=("faces",)))
    assert (again.ok, again.skipped) == (0, 1)  # incremental by default


def test_api_raises_typed_errors_before_touching_any_file(tmp_path):
    import redact
    from redact.lock import OutputLock

    with pytest.raises(redact.UsageError) as err:
        redact.redact_paths([SAMPLES / "photos"], SAMPLES / "photos" / "out")
    assert err.value.exit_code == redact.ExitCode.USAGE
    with OutputLock(tmp_path / "held"), pytest.raises(redact.OutputLocked) as err:
        redact.redact_paths([PHOTO], tmp_path / "held")
    assert err.value.exit_code == redact.ExitCode.LOCKED
    assert not (tmp_path / "held" / "audit.jsonl").exists()


@pytest.mark.parametrize("what", ["detect", "style"])
def test_api_failure_in_an_image_leaves_no_output_and_one_error_record(plugins, fail_at, tmp_path, what):
    import redact

    fail_at(0)
    settings = redact.Settings(detect=("failing",), style="failing" if what == "style" else "box")
    if what == "style":
        settings.detect = ("faces",)
    report = redact.redact_paths([PHOTO], tmp_path / "out", settings)
    assert (report.ok, report.failed, report.exit_code) == (0, 1, redact.ExitCode.FILES_FAILED)
    planted = "planted fill failure" if what == "style" else "planted detector failure"
    assert_failed_closed(tmp_path / "out", tmp_path / "out" / "audit.jsonl", planted)


@pytest.mark.parametrize("what", ["detect", "style"])
def test_api_failure_on_page_3_of_a_pdf(plugins, fail_at, five_page_pdf, tmp_path, what):
    import redact

    fail_at(2)
    settings = redact.Settings(detect=("failing",), style="failing" if what == "style" else "box", dpi=72)
    report = redact.redact_file(five_page_pdf, tmp_path / "out" / "five.pdf", settings)
    assert report.exit_code == redact.ExitCode.FILES_FAILED
    assert_failed_closed(tmp_path / "out", tmp_path / "out" / "audit.jsonl", "at image 2")


@pytest.mark.parametrize("what", ["detect", "style"])
def test_api_failure_at_frame_50_of_a_video(plugins, fail_at, tmp_path, what):
    import redact

    fail_at(50)
    settings = redact.Settings(detect=("failing",), style="failing" if what == "style" else "box", audio=False)
    report = redact.redact_file(VIDEO, tmp_path / "out" / "clip.mp4", settings)
    assert report.exit_code == redact.ExitCode.FILES_FAILED
    assert_failed_closed(tmp_path / "out", tmp_path / "out" / "audit.jsonl", "at image 50")


# --- CLI in process: exit codes --------------------------------------------------------------------------------

def test_cli_failing_detector_mid_pdf_exits_1_and_the_other_file_comes_out(plugins, fail_at, five_page_pdf,
                                                                          cli_runner, tmp_path):
    from redact.cli import main

    fail_at(2)
    src = tmp_path / "in"
    src.mkdir()
    (src / "five.pdf").write_bytes(five_page_pdf.read_bytes())
    (src / "photo.png").write_bytes(PHOTO.read_bytes())
    out = tmp_path / "out"
    result = cli_runner.invoke(main, ["run", str(src), "-o", str(out), "--detect", "failing", "--style", "box",
                                      "--dpi", "72"])
    assert result.exit_code == 1
    assert f"{src / 'five.pdf'}: planted detector failure at image 2" in result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["audit.jsonl", "photo.png"]
    assert [r["status"] for r in file_records(out / "audit.jsonl")] == ["failed", "ok"]


def test_cli_exit_codes_usage_and_locked(cli_runner, tmp_path):
    from redact.cli import main
    from redact.lock import OutputLock

    assert cli_runner.invoke(main, ["pdf", str(PHOTO), "-o", str(PHOTO)]).exit_code == 2
    with OutputLock(tmp_path / "held"):
        result = cli_runner.invoke(main, ["run", str(PHOTO), "-o", str(tmp_path / "held")])
    assert result.exit_code == 3 and "another redact run" in result.output


# --- one subprocess per command -------------------------------------------------------------------------------

def redact_cmd(*args, env=None):
    return subprocess.run([sys.executable, "-m", "redact", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=env)


def test_subprocess_smoke_every_command(plugins, tmp_path, five_page_pdf):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(plugins), os.environ.get("PYTHONPATH", "")]),
               **{FAIL_AT_VARIABLE: "1"})
    runs = {
        "images": redact_cmd("images", SAMPLES / "photos", "-o", out / "images", "--style", "box"),
        "run": redact_cmd("run", PHOTO, "-o", out / "run", "--style", "box"),
        "pdf": redact_cmd("pdf", five_page_pdf, "-o", out / "pdf" / "five.pdf", "--dpi", "72", "--detect", "faces"),
        "video": redact_cmd("video", VIDEO, "-o", out / "video", "--style", "box", "--detect-side", "240"),
        "inpaint": redact_cmd("inpaint", PHOTO, "--mask", SAMPLES / "photos" / "skimage_astronaut.png", "-o",
                              out / "inpaint.png"),
        "plugin": redact_cmd("pdf", five_page_pdf, "-o", out / "plugin" / "five.pdf", "--dpi", "72", "--detect",
                             "failing", env=env),
    }
    assert {k: r.returncode for k, r in runs.items()} == {
        "images": 0, "run": 0, "pdf": 0, "video": 0, "inpaint": 0, "plugin": 1}, {k: r.stderr for k, r in runs.items()}
    assert (out / "inpaint.png").is_file() and (out / "video" / "pyfeat_single_face.mp4").is_file()
    assert "five.pdf: planted detector failure at image 1\n" in runs["plugin"].stderr
    assert not (out / "plugin" / "five.pdf").exists()
    report = redact_cmd("report", out / "run" / "audit.jsonl", "-o", out / "report.html")
    verify = redact_cmd("audit", "verify", out / "images" / "audit.jsonl")
    helps = [redact_cmd(cmd, "--help") for cmd in ("train", "eval")]
    assert (report.returncode, verify.returncode) == (0, 0), report.stderr + verify.stderr
    assert "chain intact" in verify.stdout and (out / "report.html").stat().st_size > 1000
    assert all(h.returncode == 0 and "Usage: redact" in h.stdout for h in helps)
