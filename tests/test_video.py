"""The video job on the real clips in ../shared/data/videos (and clips made from them with PyAV)."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from conftest import SAMPLES, load_rgb, shared
from leak_check import check, decode_rgb, make_mtcnn
from logo_scenes import coverage, icon_svg, place_mark
from pipelines.tracking import Tracker
from redact.audit import read_records, verify
from redact.core.console import Console
from redact.core.errors import InputError
from redact.job import Job
from redact.core.regions import FACE, LOGO, Region, build_mask
from redact.core.settings import Settings

CLIPS = ("pyfeat_single_face.mp4", "pyfeat_face_noface.mov", "pyfeat_no_face.mp4")


@pytest.fixture(scope="module")
def mtcnn():
    return make_mtcnn()


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    out = tmp_path_factory.mktemp("video")
    j = Job(Settings(device="cpu"), out / "audit.jsonl", Console(), "video")
    yield j
    j.finish()


@pytest.fixture(scope="module")
def redacted(job, tmp_path_factory):
    """Each real clip redacted once by one job: {name: (input, output, result)}."""
    out = tmp_path_factory.mktemp("video_out")
    done = {}
    for name in CLIPS:
        src = shared(f"videos/{name}")
        dst = out / (Path(name).stem + ".mp4")
        done[name] = (src, dst, job.process(src, dst))
    return done


def frame_times(path):
    with av.open(str(path)) as c:
        return [(f.pts, f.duration) for f in c.decode(video=0)]


def audio_payloads(path):
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return []
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


@pytest.mark.parametrize("name", CLIPS)
def test_output_keeps_size_rate_timestamps_and_audio(redacted, name):
    src, dst, result = redacted[name]
    assert result.status == "ok", result.error
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        va, vb = a.streams.video[0], b.streams.video[0]
        assert vb.codec_context.name == "h264"
        assert (vb.codec_context.width, vb.codec_context.height) == (va.codec_context.width, va.codec_context.height)
        # the average rate is FFmpeg's estimate from the muxed stream; the frame timestamps below are exact
        assert abs(vb.average_rate / va.average_rate - 1) < 0.01
        assert vb.time_base == va.time_base
        # the container's duration: within 0.1 s (an input's header may count frames its edit list hides)
        assert abs(b.duration - a.duration) <= 100_000
        assert b.metadata.get("creation_time") is None  # no input metadata
        time_base, rate = va.time_base, va.average_rate  # the streams' fields are gone once the files close
    # every frame is there at its own timestamp: frame count, (variable) frame rate and duration preserved
    times_in, times_out = frame_times(src), frame_times(dst)
    assert [pts for pts, _ in times_out] == [pts for pts, _ in times_in]
    end_in, end_out = max(p + d for p, d in times_in), max(p + d for p, d in times_out)
    assert abs(end_out - end_in) * time_base <= 1 / rate  # the last frame ends within a frame
    # audio packets copied byte for byte
    payloads = audio_payloads(src)
    assert payloads and audio_payloads(dst) == payloads


def test_single_face_clip_leaks_no_frame(redacted, mtcnn):
    src, dst, _ = redacted["pyfeat_single_face.mp4"]
    report = check(mtcnn, decode_rgb(src), decode_rgb(dst))
    assert report.face_frames == report.frames == 72
    assert report.leaked == 0, report


def test_hevc_clip_where_the_face_leaves_leaks_no_frame(redacted, mtcnn):
    src, dst, _ = redacted["pyfeat_face_noface.mov"]
    inputs, outputs = decode_rgb(src, 100), decode_rgb(dst, 100)  # the face is in the first 72 frames, then gone
    report = check(mtcnn, inputs, outputs)
    assert report.face_frames >= 60
    assert report.leaked == 0, report
    # the frames well after the face left are only re-encoded
    late = [np.abs(a.astype(np.int16) - b).mean() for a, b in zip(inputs[90:], outputs[90:])]
    assert max(late) < 4


def test_clip_without_faces_is_only_reencoded(redacted, job):
    src, dst, result = redacted["pyfeat_no_face.mp4"]
    assert result.regions == 0
    diffs = [np.abs(a.astype(np.int16) - b).max(axis=2) for a, b in zip(decode_rgb(src), decode_rgb(dst))]
    assert max(float(d.mean()) for d in diffs) < 3  # H.264 noise only
    assert max(float(np.percentile(d, 99.9)) for d in diffs) < 40  # no patch was filled


def test_audit_has_one_record_per_track(redacted, job):
    job.audit.sync()
    records = read_records(job.audit.path)
    tracks = [r for r in records if r["type"] == "track" and r["file"].endswith("pyfeat_single_face.mp4")]
    assert len(tracks) == 1
    t = tracks[0]
    assert (t["kind"], t["first_frame"], t["last_frame"], t["frames"]) == (FACE, 0, 71, 72)
    assert t["first_time"] == 0 and abs(t["last_time"] - 71 / 30) < 1e-3 and t["max_score"] > 0.9
    assert not [r for r in records if r["type"] == "track" and "no_face.mp4" in r["file"]]
    assert verify(job.audit.path)[0]


def _write_clip(path, frames, fmt, codec, rate=Fraction(30), rotation=0, audio_from=None, audio_codec=None):
    """A clip made from real frames (and real sound) with PyAV."""
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream(codec, rate=rate)
        vs.height, vs.width = frames[0].shape[:2]
        vs.pix_fmt = "yuv420p"
        if rotation:
            vs.set_display_rotation(rotation)
        as_ = out.add_stream(audio_codec, rate=48000 if audio_codec == "libopus" else 44100) if audio_from else None
        for img in frames:
            for p in vs.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
        if as_ is not None:
            with av.open(str(audio_from)) as a:
                for i, af in enumerate(a.decode(audio=0)):
                    if i > 20:
                        break
                    af.pts = None
                    for p in as_.encode(af):
                        out.mux(p)
            for p in as_.encode(None):
                out.mux(p)


@pytest.fixture(scope="module")
def first_frames():
    return decode_rgb(shared("videos/pyfeat_single_face.mp4"), 12)


@pytest.mark.parametrize("fmt,suffix,codec,audio", [("matroska", ".mkv", "libx264", "aac"),
                                                     ("webm", ".webm", "libvpx-vp9", "libopus"),
                                                     ("avi", ".avi", "mpeg4", "mp3")])
def test_other_containers(job, first_frames, mtcnn, tmp_path, fmt, suffix, codec, audio):
    src = tmp_path / f"clip{suffix}"
    if audio == "mp3" and "libmp3lame" not in av.codecs_available:
        audio = "aac"
    audio_codec = {"mp3": "libmp3lame"}.get(audio, audio)
    _write_clip(src, first_frames, fmt, codec, audio_from=shared("videos/pyfeat_single_face.mp4"),
                audio_codec=audio_codec)
    dst = tmp_path / "out.mp4"
    result = job.process(src, dst)
    assert result.status == "ok", result.error
    assert len(frame_times(dst)) == len(frame_times(src)) == 12
    assert audio_payloads(dst)  # the sound is kept
    assert check(mtcnn, decode_rgb(src), decode_rgb(dst)).leaked == 0


def test_rotation_is_kept_and_faces_found_upright(job, first_frames, mtcnn, tmp_path):
    # stored sideways, displayed upright (a phone video): detection must see the displayed frame
    src = tmp_path / "rotated.mp4"
    _write_clip(src, [np.rot90(f, -1) for f in first_frames], "mp4", "libx264", rotation=90)
    dst = tmp_path / "out.mp4"
    assert job.process(src, dst).status == "ok"
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        fa, fb = next(a.decode(video=0)), next(b.decode(video=0))
        assert fb.rotation == fa.rotation == 90
        assert (fb.width, fb.height) == (fa.width, fa.height) == (360, 640)
    shown = decode_rgb(src)
    assert shown[0].shape == (360, 640, 3)
    report = check(mtcnn, shown, decode_rgb(dst))
    assert report.face_frames == 12 and report.leaked == 0


def test_faces_hidden_from_the_detector_for_a_few_frames_stay_masked(job, mtcnn, tmp_path):
    """A real miss: on frames 8-10 a grey 'hand' covers the face below the forehead; MTCNN no longer finds it."""
    frames = decode_rgb(shared("videos/pyfeat_single_face.mp4"), 20)
    covered = [f.copy() for f in frames]
    for i in (8, 9, 10):
        covered[i][120:330, 150:450] = (128, 120, 110)
    src = tmp_path / "hand.mp4"
    _write_clip(src, covered, "mp4", "libx264")
    inputs = decode_rgb(src)
    found = job.redactor.detector("faces").faces(inputs[8:11])
    assert not any(found), "precondition: the detector misses the covered face"
    dst = tmp_path / "out.mp4"
    threads = torch.get_num_threads()
    assert job.process(src, dst).status == "ok"
    assert torch.get_num_threads() == threads  # the pipeline's one-thread detection on the CPU is undone
    outputs = decode_rgb(dst)
    # the forehead stays visible above the 'hand': it must be filled on the missed frames too
    ref = job.redactor.detector("faces").faces(inputs[7:8])[0][0]
    x0, y0, x1, _ = (int(v) for v in ref.box)
    for i in (8, 9, 10):
        diff = np.abs(inputs[i][y0:120, x0:x1].astype(np.int16) - outputs[i][y0:120, x0:x1]).mean()
        assert diff > 12, f"frame {i} shows the face above the hand"


def test_cli_video_command_no_audio_and_crf(cli_runner, tmp_path):
    from redact.cli import main

    sample = SAMPLES / "videos" / "pyfeat_single_face.mp4"
    out = tmp_path / "out" / "redacted.mp4"
    res = cli_runner.invoke(main, ["video", str(sample), "-o", str(out), "--no-audio", "--crf", "30",
                                   "--device", "cpu", "--style", "box"])
    assert res.exit_code == 0, res.output
    with av.open(str(out)) as c:
        assert not c.streams.audio and c.streams.video[0].frames == 72
    assert out.stat().st_size < sample.stat().st_size  # crf 30 and no audio: smaller than the input
    records = [json.loads(line) for line in open(tmp_path / "out" / "audit.jsonl")]
    assert [r["type"] for r in records].count("track") == 1


def _faststart(src: Path, dst: Path) -> bytes:
    with av.open(str(src)) as i, av.open(str(dst), "w", options={"movflags": "faststart"}) as o:
        m = {s.index: o.add_stream_from_template(s) for s in i.streams}
        for p in i.demux():
            if p.dts is not None:
                p.stream = m[p.stream.index]
                o.mux(p)
    return dst.read_bytes()


@pytest.mark.parametrize("damage", ["zero_length", "truncated", "truncated_faststart", "garbage", "audio_only"])
def test_bad_video_fails_with_one_line_and_no_output(job, tmp_path, damage):
    real = shared("videos/pyfeat_single_face.mp4")
    data = real.read_bytes()
    src = tmp_path / "bad.mp4"
    if damage == "zero_length":
        src.write_bytes(b"")
    elif damage == "truncated":
        src.write_bytes(data[: len(data) // 2])
    elif damage == "truncated_faststart":  # header first: the decoder would see only the first half of the frames
        whole = _faststart(real, tmp_path / "fs.mp4")
        src.write_bytes(whole[: len(whole) * 6 // 10])
    elif damage == "garbage":
        src.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    else:
        with av.open(str(real)) as i, av.open(str(src), "w") as o:
            a = o.add_stream_from_template(i.streams.audio[0])
            for p in i.demux(i.streams.audio[0]):
                if p.dts is not None:
                    p.stream = a
                    o.mux(p)
    dst = tmp_path / "out" / "bad.mp4"
    result = job.process(src, dst)
    assert result.status == "failed"
    assert "\n" not in result.error and result.error
    assert not dst.exists() and not list(dst.parent.glob("*"))  # no output, no temporary file left


def test_probe_error_type():
    from pipelines.video import probe

    with pytest.raises(InputError, match="empty"):
        probe(Path("/dev/null"))


def test_fill_never_reads_the_pixels_under_the_mask_and_touches_nothing_else(job, first_frames):
    """The video fill works on crops, at reduced size for large holes: still irreversible, still local."""
    from pipelines.video import fill_frames

    frame = first_frames[0]
    regions = [Region(FACE, (160, 0, 420, 360), 0.99, "mtcnn"),  # a close-up face: filled at reduced size
               Region(FACE, (560, 40, 590, 75), 0.99, "mtcnn")]  # a small one, far away: filled as it is
    mask = np.zeros(frame.shape[:2], bool)
    for r in regions:
        x0, y0, x1, y1 = (int(v) for v in r.padded(job.settings.pad).clipped(640, 360).box)
        mask[y0:y1, x0:x1] = True
    noise = np.random.default_rng(3).integers(0, 256, frame.shape, dtype=np.uint8)
    other = np.where(mask[..., None], noise, frame)  # the same frame, other content under the mask
    a, b, bare = fill_frames(job.redactor, [frame, other, frame], [regions, regions, []])
    assert np.array_equal(a, b)  # what lands in the mask does not depend on what was there
    assert np.array_equal(a[~mask], frame[~mask])  # only masked pixels change
    assert np.abs(a[mask].astype(np.int16) - frame[mask]).mean() > 12  # and they did change
    assert bare is frame  # a frame without regions is passed through untouched


# -- the tracker on its own ---------------------------------------------------------------------------------
def _face(i, x=100.0, y=50.0, size=80.0):
    return Region(FACE, (x, y, x + size, y + size), 0.99, "mtcnn", i)


def _run(tracker, detections, n):
    out = {}
    for i in range(n):
        tracker.update(i, i / 30, detections.get(i, []))
        out.update(dict(tracker.ready()))
    out.update(dict(tracker.ready(final=True)))
    return out, tracker.finish(n - 1)


def test_tracker_masks_through_gaps_and_before_and_after():
    t = Tracker(max_gap=5, pre=3, post=3)
    dets = {i: [_face(i)] for i in list(range(10, 15)) + list(range(19, 25))}  # frames 15-18 missed
    masks, records = _run(t, dets, 40)
    masked = [i for i in range(40) if masks[i]]
    assert masked == list(range(7, 28))  # 3 before, the gap, 3 after
    assert len(records) == 1 and records[0]["frames"] == 11
    assert (records[0]["first_frame"], records[0]["last_frame"]) == (10, 24)


def test_tracker_does_not_bridge_long_gaps_and_separates_faces():
    t = Tracker(max_gap=3, pre=1, post=1)
    dets = {i: [_face(i), _face(i, x=400)] for i in range(0, 5)}
    dets.update({i: [_face(i)] for i in range(12, 15)})
    masks, records = _run(t, dets, 20)
    assert len(records) == 3
    assert not masks[8]  # 8 frames apart: two tracks, nothing masked in between
    assert len(masks[2]) == 2


def test_tracker_masks_grow_with_motion():
    t = Tracker(max_gap=4, pre=2, post=2)
    dets = {i: [_face(i, x=100 + 10 * i)] for i in range(10) if i != 5}  # moving 10 px per frame, 5 missed
    masks, _ = _run(t, dets, 14)
    for i in range(10):
        (x0, _, x1, _) = masks[i][0].box
        assert x0 <= 100 + 10 * i - 10 and x1 >= 180 + 10 * i + 10  # covers one frame of motion either side
    x0, _, x1, _ = masks[11][0].box  # two frames after the last detection: the face is expected at x=210
    assert x0 <= 210 and x1 >= 290 + 10  # the mask follows the motion


def test_no_frame_between_masked_frames_is_left_bare():
    rng = np.random.default_rng(1)
    t = Tracker(max_gap=4, pre=2, post=2)
    hits = sorted(int(i) for i in rng.choice(200, 120, replace=False))
    dets = {i: [_face(i, x=100 + 2 * i)] for i in hits}
    masks, _ = _run(t, dets, 200)
    for a, b in zip(hits, hits[1:]):
        if b - a <= 5:
            assert all(masks[i] for i in range(a, b + 1)), (a, b)


def test_tracker_drops_a_single_unsure_detection_but_keeps_a_sure_one():
    t = Tracker(max_gap=3, pre=1, post=1)
    weak = Region(FACE, (10, 10, 50, 50), 0.8, "mtcnn", 5)
    sure = Region(FACE, (300, 10, 340, 50), 0.99, "mtcnn", 5)
    masks, records = _run(t, {5: [weak, sure]}, 12)
    assert [r.box[0] < 300 for r in masks[5]] == [False]  # only the sure one is masked
    assert len(records) == 1 and records[0]["max_score"] == 0.99


# -- logos: full-size keyframes, tracked in between ---------------------------------------------------------
LOGO_SLUG = "dropbox"  # a real brand mark (simple-icons-pack, CC0)
LOGO_WIDTH = 50  # px in a 1280x720 frame: 19 px in the detectors' 480 copy, below the logo detector's smallest
LOGO_FPS = 24  # with the default video_logo_every of 0.2 s: a keyframe every 5 frames (0, 5, 10, ... and the last)


@pytest.fixture(scope="module")
def logo_job(tmp_path_factory):
    """A video job with one reference logo, faces too (the default), filled with black boxes."""
    folder = tmp_path_factory.mktemp("video_logos")
    (folder / f"{LOGO_SLUG}.svg").write_bytes(icon_svg(LOGO_SLUG))
    out = tmp_path_factory.mktemp("video_logos_out")
    j = Job(Settings(device="cpu", style="box", logos=str(folder)), out / "audit.jsonl", Console(), "video")
    yield j
    j.finish()


def _logo_clip(path, centres):
    """A 1280x720 clip of a real photo with the real mark centred at ``centres[i]`` on frame i (None: no mark).
    Returns the mark's pixels (truth mask) on every frame."""
    photo = cv2.resize(load_rgb(shared("photos/eval/plasma__Kite.jpg")), (1280, 800), interpolation=cv2.INTER_CUBIC)
    photo = np.ascontiguousarray(photo[40:760])
    rng = np.random.default_rng(0)
    frames, truths = [], []
    for c in centres:
        if c is None:
            frames.append(photo)
            truths.append(np.zeros(photo.shape[:2], bool))
            continue
        image, placed = place_mark(photo, icon_svg(LOGO_SLUG), LOGO_WIDTH, rng, angle=10, colour=(250, 230, 40),
                                   centre=c)
        frames.append(image)
        truths.append(placed.truth)
    _write_clip(path, frames, "mp4", "libx264", rate=Fraction(LOGO_FPS))
    return truths


def _blacked(frame: np.ndarray) -> np.ndarray:
    return frame.max(axis=2) < 48  # the box fill after H.264


def _logo_tracks(job, name):
    job.audit.sync()
    return [r for r in read_records(job.audit.path)
            if r["type"] == "track" and r["file"].endswith(name) and r["kind"] == LOGO]


def test_small_moving_logo_is_masked_on_every_frame(logo_job, tmp_path):
    """A 50 px mark crossing a 720p frame (28 px a frame): found on the full-size keyframes only, and the tracker
    masks it on every frame in between."""
    n = 36
    src = tmp_path / "moving_logo.mp4"
    truths = _logo_clip(src, [(150 + 28 * i, 250 + 6 * i) for i in range(n)])
    inputs = decode_rgb(src)
    small = cv2.resize(inputs[0], (480, 270), interpolation=cv2.INTER_AREA)
    assert logo_job.redactor.detector("logos").detect_one(small) == [], "precondition: too small in the 480 copy"
    dst = tmp_path / "out.mp4"
    result = logo_job.process(src, dst)
    assert result.status == "ok", result.error
    outputs = decode_rgb(dst)
    assert len(outputs) == n
    for i, (out, truth) in enumerate(zip(outputs, truths)):
        filled = _blacked(out)
        assert coverage(filled, truth) >= 0.99, f"frame {i}: the mark shows"
        # the mask grows with the motion (the tracker's box, 28 px a frame here) but stays near the mark
        (fy, fx), (ty, tx) = np.nonzero(filled), np.nonzero(truth)
        assert fx.min() >= tx.min() - 150 and fx.max() <= tx.max() + 150, f"frame {i}"
        assert fy.min() >= ty.min() - 150 and fy.max() <= ty.max() + 150, f"frame {i}"
    tracks = _logo_tracks(logo_job, "moving_logo.mp4")
    assert len(tracks) == 1, tracks  # the keyframe detections are linked into one track despite the motion
    t = tracks[0]
    assert t["label"] == f"{LOGO_SLUG}.svg" and t["detector"] == "logos"
    assert t["frames"] == 8  # keyframes 0, 5, ..., 30 and the last frame, 35: the logo detector saw no other
    assert (t["first_frame"], t["last_frame"], t["masked_first_frame"], t["masked_last_frame"]) == (0, 35, 0, 35)


def test_cli_logo_appearing_between_keyframes_is_masked_from_its_first_frame(logo_job, cli_runner, tmp_path):
    """``redact video --logos DIR``: a mark that appears two frames after a keyframe is first detected on the
    next keyframe, and masked back to its first frame."""
    from redact.cli import main

    n, first = 20, 7  # keyframes 0, 5, 10, 15 and the last, 19
    src = tmp_path / "late_logo.mp4"
    truths = _logo_clip(src, [None if i < first else (300 + 20 * i, 400) for i in range(n)])
    dst = tmp_path / "out" / "late_logo.mp4"
    res = cli_runner.invoke(main, ["video", str(src), "-o", str(dst), "--logos", str(Path(logo_job.settings.logos)),
                                   "--logo-every", "0.2", "--style", "box", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    outputs = decode_rgb(dst)
    for i in range(first, n):
        assert coverage(_blacked(outputs[i]), truths[i]) >= 0.99, f"frame {i}: the mark shows"
    assert not _blacked(outputs[0]).any()  # a keyframe interval before the mark: untouched
    tracks = [json.loads(line) for line in open(dst.parent / "audit.jsonl")]
    (t,) = [r for r in tracks if r["type"] == "track" and r["kind"] == LOGO]
    assert t["first_frame"] == 10 and t["masked_first_frame"] <= first and t["label"] == f"{LOGO_SLUG}.svg"


def _logo(i, x, y=300.0, size=50.0):
    """A logo detection as the logo detector gives it: a (rotated) polygon and its box."""
    poly = ((x + 10, y), (x + size, y + 10), (x + size - 10, y + size), (x, y + size - 10))
    return Region(LOGO, (x, y, x + size, y + size), 0.9, "logos", i, polygon=poly, label="mark.svg")


def test_keyframe_tracker_covers_a_moving_logo_between_and_around_keyframes():
    """Logo rule from the video settings (30 fps, a keyframe every 0.2 s = 6 frames): a logo moving 12 px a frame,
    detected on keyframes only, is covered on every frame, also where it appears just after a keyframe; faces
    keep their own rule."""
    from pipelines.video import logo_keyframe_step, make_tracker

    settings = Settings()
    k = logo_keyframe_step(settings, 30.0)
    assert k == 6
    tracker = make_tracker(settings, 30.0)
    assert tracker.rule(LOGO).max_gap >= k and tracker.rule(LOGO).pre >= k - 1 and tracker.rule(LOGO).post >= k - 1
    assert tracker.rule(FACE) == tracker.default_rule and tracker.default_rule.max_gap == 12
    appears, n = 7, 40  # first seen on keyframe 12; last keyframe showing it: 36
    x_at = {i: 100.0 + 12 * i for i in range(appears, n)}
    dets = {i: [_logo(i, x_at[i])] for i in range(0, n, k) if i in x_at}
    masks, records = _run(tracker, dets, n)
    assert len(records) == 1 and records[0]["frames"] == 5
    for i in range(appears, n):
        truth = build_mask([_logo(i, x_at[i])], 400, 800)
        assert coverage(build_mask(masks[i], 400, 800), truth) == 1.0, f"frame {i}"
    assert not masks[0] and not masks[5]  # nothing before the keyframe interval the logo appeared in


def test_logo_detector_sees_keyframes_at_the_logo_side_and_regions_come_back_in_frame_pixels(logo_job, tmp_path):
    """``video_logo_side``: the logo detector sees a 1000 px copy of keyframes only; its polygons are scaled back
    to the 1280x720 frame and cover the mark there."""
    from pipelines.redactor import Redactor
    from pipelines.video import Frame, _detect
    from redact.core.images import fit_side

    truths = _logo_clip(tmp_path / "one.mp4", [(640, 360)])
    image = decode_rgb(tmp_path / "one.mp4")[0]
    small, scale = fit_side(image, 480)
    assert small.shape == (270, 480, 3) and scale == 0.375
    redactor = Redactor(Settings(device="cpu", style="box", detect=("logos",), logos=logo_job.settings.logos,
                                 video_logo_side=1000))
    frames = [Frame(i, i, 1, i / 24, image, small, scale, logo_key=(i == 4)) for i in (3, 4)]
    off_key, on_key = _detect(redactor, frames)
    assert off_key == []  # not a keyframe: the logo detector did not look
    (region,) = on_key
    assert region.index == 4 and region.label == f"{LOGO_SLUG}.svg" and region.polygon is not None
    assert coverage(build_mask([region], 720, 1280, 2.0), truths[0]) >= 0.99


def test_cli_logo_video_options_without_logos_are_refused(cli_runner, tmp_path):
    """``--logo-every``/``--logo-side`` without ``--logos DIR`` would be silently ignored: a usage error instead,
    and no output is written."""
    from redact.cli import main

    src = tmp_path / "clip.mp4"
    _logo_clip(src, [None] * 3)
    for option, value in (("--logo-every", "0.5"), ("--logo-side", "720")):
        res = cli_runner.invoke(main, ["video", str(src), "-o", str(tmp_path / "out.mp4"), option, value])
        assert res.exit_code == 2 and "--logos DIR" in res.output, res.output
        assert not (tmp_path / "out.mp4").exists()
