"""Video redaction speed and leaks, ours next to deface 1.5.0, measured in the same run on the same clips.

    .venv/bin/python benchmarks/bench_video.py [--repeat 2] [--deface-venv /tmp/deface-venv] [--stages] [--style telea]

Clips (640x360, real): pyfeat_single_face.mp4 as it is, and pyfeat_face_noface.mov (HEVC 960x540, the face
leaves mid-clip) scaled to 640x360. Both tools run on the CPU with their models loaded before the clock starts
(deface in its own venv, created here on first use with `pip install deface==1.5.0`; it is not a dependency of
this project); ours fills with ``--style`` (default telea: the cheap fill, so the figures compare detection and
the pipeline; the job's default, inpaint, costs far more, see ``bench_fills.py``); each figure is the best of
``--repeat`` runs, the two tools taking turns, decode to encoded MP4 inclusive. The leak check is
tests/leak_check.py (MTCNN on the input and on the output; see there), the same for both tools.
``--stages`` also prints where our pipeline spends its CPU time: milliseconds per frame in each stage, as the
CPU time of the threads running it (so other load on the machine does not count).

    .venv/bin/python benchmarks/bench_video.py --logos [--seconds 2] [--fps 24]

``--logos`` measures logo removal in video instead (no deface run): a 1920x1080 H.264 clip of a real photo
(photos/eval) with a real brand mark (PyPI simple-icons-pack, 64 px wide, 16 px in the 480 copy) crossing it,
redacted with the logo detector alone (``detect=logos``, box fill) with 1 and with 10 reference logos (the
mark's and 9 others), once with keyframes (the default ``video_logo_every``) and once detecting every frame
(``video_logo_every=0``). It prints the whole job's milliseconds per frame (decode to encoded MP4), the ratio,
and on how many frames the mark's pixels were covered (>= 95% of them black in the output).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import av
import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
VIDEOS = ROOT.parent / "shared" / "data" / "videos"

DEFACE_DRIVER = r"""
import json, sys, time
from deface.centerface import CenterFace
from deface.deface import video_detect
src, dst, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
centerface = CenterFace(in_shape=None, backend="auto")  # deface's own defaults from here on
best = None
for _ in range(repeat):
    t0 = time.perf_counter()
    video_detect(src, dst, centerface, threshold=0.2, enable_preview=False, cam=False, nested=False,
                 replacewith="blur", mask_scale=1.3, ellipse=True, draw_scores=False,
                 ffmpeg_config={"codec": "libx264"}, keep_audio=True)
    dt = time.perf_counter() - t0
    best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best}))
"""


def ensure_deface(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not (venv / "bin" / "deface").exists():
        print(f"creating {venv} with deface 1.5.0 ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "deface==1.5.0"], check=True)
    return python


def scaled_copy(src: Path, dst: Path, width: int, height: int) -> Path:
    """A 640x360 H.264 copy of a real clip (same frames and timestamps, audio dropped)."""
    with av.open(str(src)) as i, av.open(str(dst), "w") as o:
        v = i.streams.video[0]
        s = o.add_stream("libx264", rate=v.average_rate)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.time_base = s.codec_context.time_base = v.time_base
        s.options = {"crf": "16"}
        for f in i.decode(v):
            img = cv2.resize(f.to_ndarray(format="rgb24"), (width, height), interpolation=cv2.INTER_AREA)
            nf = av.VideoFrame.from_ndarray(img, format="rgb24")
            nf.pts, nf.time_base = f.pts, v.time_base
            for p in s.encode(nf):
                o.mux(p)
        for p in s.encode(None):
            o.mux(p)
    return dst


def count_frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def run_ours(job, src: Path, dst: Path, repeat: int) -> float:
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = job.process(src, dst)
        dt = time.perf_counter() - t0
        if result.status != "ok":
            raise SystemExit(f"our pipeline failed on {src.name}: {result.error}")
        best = dt if best is None else min(best, dt)
    return best


def run_deface(python: Path, driver: Path, src: Path, dst: Path) -> float:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    res = subprocess.run([str(python), str(driver), str(src), str(dst), "1"], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"deface failed on {src.name}: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])["seconds"]


def stage_split(job, src: Path, dst: Path, frames: int) -> dict[str, float]:
    """CPU milliseconds per frame of each stage of our pipeline, from the CPU time of the threads running it."""
    import pipelines.video as video

    spent: Counter = Counter()
    lock = threading.Lock()

    def timed(name, fn):
        def run(*args, **kwargs):
            t0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                with lock:
                    spent[name] += time.thread_time() - t0
        return run

    stages = {"decode (thread)": "_decode", "detect": "_detect", "fill": "fill_frames",
              "encode (thread, without x264's own threads)": "_encode"}
    originals = {attr: getattr(video, attr) for attr in stages.values()}
    for name, attr in stages.items():
        setattr(video, attr, timed(name, originals[attr]))
    try:
        c0 = time.process_time()
        result = job.process(src, dst)
        total = time.process_time() - c0
    finally:
        for attr, fn in originals.items():
            setattr(video, attr, fn)
    if result.status != "ok":
        raise SystemExit(f"our pipeline failed on {src.name}: {result.error}")
    out = {name: 1000 * spent[name] / frames for name in stages}
    out["rest (x264 threads, tracker, queues)"] = 1000 * (total - sum(spent.values())) / frames
    out["whole process"] = 1000 * total / frames
    return out


def leaks(mtcnn, src: Path, out: Path):
    from leak_check import check, decode_rgb

    a, b = decode_rgb(src), decode_rgb(out)
    n = min(len(a), len(b))
    return check(mtcnn, a[:n], b[:n]), len(a), len(b)


LOGO_MARK = "dropbox"  # the mark in the clip; the others are references that are not there
LOGO_OTHERS = ("mailbox", "github", "spotify", "firefox", "android", "apple", "docker", "python", "nike")


def logo_clip(path: Path, seconds: float, fps: int) -> list:
    """The 1080p clip with the mark crossing a real photo; the mark's pixels on every frame."""
    import numpy as np
    from PIL import Image

    from logo_scenes import icon_svg, place_mark

    photo = np.asarray(Image.open(VIDEOS.parent / "photos" / "eval" / "plasma__Kite.jpg").convert("RGB"))
    photo = np.ascontiguousarray(cv2.resize(photo, (1920, 1200), interpolation=cv2.INTER_CUBIC)[60:1140])
    n = max(2, round(seconds * fps))
    rng = np.random.default_rng(0)
    truths = []
    with av.open(str(path), "w") as o:
        s = o.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 1920, 1080, "yuv420p"
        s.options = {"crf": "18"}
        for i in range(n):
            centre = (200 + 1500 * i / (n - 1), 400 + 300 * i / (n - 1))
            image, placed = place_mark(photo, icon_svg(LOGO_MARK), 64, rng, angle=15, colour=(250, 230, 40),
                                       centre=centre)
            truths.append(placed.truth)
            for p in s.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                o.mux(p)
        for p in s.encode(None):
            o.mux(p)
    return truths


def logo_main(args) -> None:
    from leak_check import decode_rgb
    from logo_scenes import coverage, icon_svg
    from pipelines.video import logo_keyframe_step
    from redact.core.console import Console
    from redact.job import Job
    from redact.core.settings import Settings

    load_start = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench_video_logos_"))
    clip = work / "logo_1080p.mp4"
    truths = logo_clip(clip, args.seconds, args.fps)
    n = len(truths)
    rows = []
    for count in (1, 10):
        refs = work / f"refs{count}"
        refs.mkdir()
        for slug in (LOGO_MARK, *LOGO_OTHERS)[:count]:
            (refs / f"{slug}.svg").write_bytes(icon_svg(slug))
        timings = {}
        for mode, every in (("keyframes", Settings.video_logo_every), ("every frame", 0.0)):
            settings = Settings(device="cpu", style="box", detect=("logos",), logos=str(refs), video_logo_every=every)
            job = Job(settings, work / f"audit_{count}.jsonl", Console(verbose=False), "bench")
            job.start()
            job.redactor.detector("logos")  # references loaded before the clock starts
            out = work / f"out_{count}_{every}.mp4"
            seconds = run_ours(job, clip, out, args.repeat)
            job.finish()
            covered = sum(coverage(o.max(axis=2) < 48, t) >= 0.95 for o, t in zip(decode_rgb(out), truths))
            timings[mode] = seconds
            rows.append((count, mode, 1000 * seconds / n, covered))
        rows.append((count, "ratio", timings["every frame"] / timings["keyframes"], None))
    step = logo_keyframe_step(Settings(), args.fps)
    print(f"CPU, {os.cpu_count()} cores, load average {load_start:.1f} at the start and {os.getloadavg()[0]:.1f} "
          f"at the end; 1920x1080, {n} frames at {args.fps} fps, mark 64 px; keyframes every "
          f"{Settings.video_logo_every} s = {step} frames; best of {args.repeat}")
    print(f"{'references':>10} {'mode':12} {'ms/frame':>9} {'mark covered':>13}")
    for count, mode, value, covered in rows:
        if covered is None:
            print(f"{count:10d} {'every/keys':12} {value:8.1f}x")
        else:
            print(f"{count:10d} {mode:12} {value:9.0f} {covered:6d}/{n}")
    print(f"outputs in {work}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--deface-venv", type=Path, default=Path("/tmp/deface-venv"))
    ap.add_argument("--style", default="telea", help="our fill (default telea, the cheap one; inpaint costs most)")
    ap.add_argument("--stages", action="store_true", help="also print our CPU time per frame in each stage")
    ap.add_argument("--logos", action="store_true", help="measure logo removal (keyframes against every frame)")
    ap.add_argument("--seconds", type=float, default=2.0, help="--logos: length of the 1080p clip")
    ap.add_argument("--fps", type=int, default=24, help="--logos: its frame rate")
    args = ap.parse_args()
    if args.logos:
        return logo_main(args)

    from leak_check import make_mtcnn
    from redact.core.console import Console
    from redact.job import Job
    from redact.core.settings import Settings

    deface_python = ensure_deface(args.deface_venv)
    load_start = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench_video_"))
    clips = [VIDEOS / "pyfeat_single_face.mp4",
             scaled_copy(VIDEOS / "pyfeat_face_noface.mov", work / "pyfeat_face_noface_640x360.mp4", 640, 360)]
    settings = Settings(device="cpu", style=args.style)
    job = Job(settings, work / "audit.jsonl", Console(verbose=False), "bench")
    job.start()
    job.redactor.detector("faces")  # models loaded before the clock starts, as for deface
    mtcnn = make_mtcnn()
    driver = work / "deface_driver.py"
    driver.write_text(DEFACE_DRIVER)

    rows, stage_rows = [], []
    for clip in clips:
        n = count_frames(clip)
        ours_out, deface_out = work / f"ours_{clip.stem}.mp4", work / f"deface_{clip.stem}.mp4"
        ours_s = deface_s = float("inf")
        for _ in range(args.repeat):  # the tools take turns, so a burst of other load hits both alike
            ours_s = min(ours_s, run_ours(job, clip, ours_out, 1))
            deface_s = min(deface_s, run_deface(deface_python, driver, clip, deface_out))
        ours_leak, _, ours_n = leaks(mtcnn, clip, ours_out)
        deface_leak, _, deface_n = leaks(mtcnn, clip, deface_out)
        rows.append((clip.name, n, n / ours_s, n / deface_s, ours_leak, ours_n, deface_leak, deface_n))
        if args.stages:
            split = stage_split(job, clip, work / "stages.mp4", n)
            stage_rows.append((clip.name, split))
    job.finish()

    print(f"CPU, {os.cpu_count()} cores, load average {load_start:.1f} at the start and {os.getloadavg()[0]:.1f} "
          f"at the end; settings: style={settings.style}, detect side {settings.video_detect_side}")
    print(f"{'clip (640x360)':38} {'frames':>6} {'ours fps':>9} {'deface fps':>10} {'ratio':>6} "
          f"{'ours leaked':>12} {'deface leaked':>14} {'out frames ours/deface':>24}")
    for name, n, ofps, dfps, ol, on, dl, dn in rows:
        print(f"{name:38} {n:6d} {ofps:9.1f} {dfps:10.1f} {ofps / dfps:6.2f} "
              f"{ol.leaked:5d}/{ol.face_frames:<6d} {dl.leaked:7d}/{dl.face_frames:<6d} {on:>12d}/{dn}")
        if dl.leaked:
            print(f"  deface leaks: {dl.detected} frames where MTCNN still finds the face, "
                  f"{dl.uncovered} with a landmark uncovered")
    for name, split in stage_rows:
        print(f"our CPU time per frame on {name} (ms):")
        for stage, ms in split.items():
            print(f"  {stage:44} {ms:6.1f}")
    print(f"outputs in {work}")


if __name__ == "__main__":
    main()
