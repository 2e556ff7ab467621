"""Video files: every frame is detected, detections are tracked, and the frames are re-encoded as H.264 MP4.

The stages run at once, joined by bounded queues (memory does not grow with the video's length):

    decoder thread  --frames-->  main thread: track, fill  --frames-->  encoder thread
                                      |  ^
                    batches of frames v  | their regions, in order
                              detection worker threads

The decoder (PyAV/FFmpeg: any container and codec FFmpeg reads) turns frames upright (the display rotation) and
also makes the small copy the detectors see (``Settings.video_detect_side``); the main thread hands batches of
frames to the detection workers (one per core on the CPU, each with one torch thread; one on a GPU), takes
their regions back in frame order, links them into tracks (``pipelines.tracking``), and fills each frame once
the tracker says its regions are final (a few frames later) while the workers detect the next batches; the
encoder writes libx264 with the input's size, frame timestamps (so frame rate, time base, frame count and
duration), display rotation, and copies the audio packets unchanged. Any error in any stage stops them all;
the job then removes the partial output (fail closed).

Logos (``--logos``) are too small in the detectors' copy (a 48 px mark in 1080p is 12 px at 480) and their
detector is slow, so it sees the full-size frame (``Settings.video_logo_side``, 0: full size) of *keyframes*
only: every ``Settings.video_logo_every`` seconds, and the last frame. The tracker carries logo regions
across the frames in between: a logo track bridges two keyframe intervals (one missed keyframe) and is
masked a whole interval before its first and after its last detection, so a logo seen on a keyframe is
masked on every frame from the keyframe before to the keyframe after (one that appears just after a
keyframe is masked from its first frame); between keyframes its box is interpolated and grown with its motion.
"""
from __future__ import annotations

import os
import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from pipelines.camera import CameraMotion
from pipelines.redactor import PHOTO
from pipelines.tracking import Tracker, TrackRule
from redact.core.errors import InputError, squeeze
from redact.core.images import fit_side
from redact.core.outcome import Outcome
from redact.core.regions import LOGO

BATCH_GPU = 8  # frames per detection batch on a GPU (the detector and a GPU fill are batched)
BATCH_CPU = 4  # and on the CPU, where 4 measured faster than 8 (37 against 41 ms of CPU time a frame)
DETECT_WORKERS = 4  # at most this many batches detected at once on the CPU (one per core)
QUEUE_FRAMES = 16  # frames each queue may hold
GAP_SECONDS = 0.4  # a track is masked (and linked) through detector misses this long
EDGE_SECONDS = 0.15  # and this long before its first and after its last detection
BORDER_SECONDS = 1.2  # a face cut by the frame's border, entering or leaving, is masked up to this long before its
# first (after its last) detection while its box, carried by the camera, is inside the frame; the frames of this
# span are held in memory before they are written
EXIT_SECONDS = 10.0  # and up to this long after its last detection while a steady camera carries it out of the frame
ENTER_SECONDS = 4.0  # and up to this long before its first detection while a steady camera carried it in, as far as
HELD_FRAMES_BYTES = 1 << 30  # this much memory holds the frames of that span (1080p: 4 s at 25 fps; 4K: 1.7 s)
X264_PRESET = "veryfast"  # throughput first; --crf sets the quality
MP4_AUDIO = {"aac", "mp3", "mp2", "ac3", "eac3", "opus", "flac", "alac"}  # audio the MP4 muxer takes as is
END = None


@dataclass
class VideoInfo:
    width: int  # as stored (before rotation)
    height: int
    time_base: Fraction
    rate: Fraction  # average frame rate
    frames: int  # the container's frame count (0 when it does not say)
    rotation: int  # display rotation, degrees counter-clockwise (0, 90, 180, 270)
    audio: list[int]  # indexes of the audio streams


@dataclass
class Frame:
    index: int
    pts: int | None
    duration: int
    time: float
    image: np.ndarray  # upright RGB
    small: np.ndarray  # what the detectors see
    scale: float  # small / image
    logo_key: bool = False  # a keyframe: the logo detector sees this frame
    shift: tuple[float, float] = (0.0, 0.0)  # the camera's shift of the content from the frame before (pixels)


def _av_error(exc: Exception) -> InputError:
    text = squeeze(exc)
    return InputError(f"corrupt, truncated or unreadable video ({text})")


MAX_VIDEO_PIXELS = 40_000_000  # per frame: 8K UHD (7680 x 4320) is 33 MP


def probe(src: Path) -> VideoInfo:
    """The video's geometry and timing; InputError for anything that is not a readable video."""
    if not src.exists() or src.stat().st_size == 0:
        raise InputError("empty file (zero length)")
    try:
        with av.open(str(src)) as container:
            fmt = container.format.name
            if fmt == "image2" or fmt.endswith("_pipe"):  # FFmpeg reads a still image as a one-frame video
                raise InputError(f"not a video: the content is a still image ({fmt.removesuffix('_pipe')})")
            if not container.streams.video:
                raise InputError("no video stream in the file")
            v = container.streams.video[0]
            width, height = v.codec_context.width, v.codec_context.height
            if not width or not height:
                raise InputError("video stream has no frame size")
            if width * height > MAX_VIDEO_PIXELS:  # before any frame is decoded: queues hold dozens of them
                raise InputError(f"video frames too large: {width} x {height} pixels "
                                 f"(limit {MAX_VIDEO_PIXELS:,}, about 8K)")
            rate = v.average_rate or v.guessed_rate or v.base_rate or Fraction(25)
            time_base = v.time_base or Fraction(1, 90000)
            size = src.stat().st_size
            for stream in [v, *container.streams.audio]:
                entries = stream.index_entries  # where the container's index says each packet lies
                if entries and max(e.pos + e.size for e in entries) > size:
                    raise InputError("truncated video: the file ends before the data its index lists")
            rotation = 0
            for frame in container.decode(v):  # the display matrix arrives with the frames
                rotation = int(round(frame.rotation)) % 360
                break
            else:
                raise InputError("no video frames could be decoded")
            return VideoInfo(width, height, Fraction(time_base), Fraction(rate), int(v.frames or 0), rotation,
                             [s.index for s in container.streams.audio])
    except InputError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise _av_error(exc) from exc


class _Stage(threading.Thread):
    """A thread that keeps the exception that stopped it, for the main thread to raise."""

    def __init__(self, target, *args):
        super().__init__(daemon=True)
        self._target_fn, self._args = target, args
        self.error: BaseException | None = None

    def run(self):
        try:
            self._target_fn(*self._args)
        except BaseException as exc:  # handed to the main thread, which raises it
            self.error = exc


class _Stopped(Exception):
    """Another stage failed; this one gives up quietly."""


def _put(q: queue.Queue, item, stop: threading.Event, consumer: _Stage | None = None) -> None:
    while True:
        if stop.is_set() or (consumer is not None and not consumer.is_alive()):
            raise _Stopped()
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _get(q: queue.Queue, stop: threading.Event, producer: _Stage | None = None):
    while True:
        if stop.is_set():
            raise _Stopped()
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if producer is not None and not producer.is_alive() and q.empty():
                if producer.error is not None:
                    raise _Stopped()
                return END


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    return image if rotation == 0 else np.ascontiguousarray(np.rot90(image, rotation // 90))


def _stored(image: np.ndarray, rotation: int) -> np.ndarray:
    return image if rotation == 0 else np.ascontiguousarray(np.rot90(image, -(rotation // 90)))


def _decode(src: Path, info: VideoInfo, detect_side: int, out: queue.Queue, stop: threading.Event) -> None:
    """Decoder stage: upright RGB frames and their detection-size copies, in order; InputError on damage."""
    packets = 0
    index = 0
    durations: dict[int, int] = {}  # packet pts -> duration (frame threading can mix up frames' own durations)
    camera = CameraMotion()
    try:
        with av.open(str(src)) as container:
            v = container.streams.video[0]
            v.thread_type = "AUTO"
            tb = v.time_base or info.time_base
            for packet in container.demux(v):
                if packet.is_corrupt:
                    raise InputError(f"corrupt or truncated video (damaged data near frame {index})")
                if packet.size:
                    packets += 1
                    if packet.pts is not None:
                        durations[packet.pts] = int(packet.duration or 0)
                for f in packet.decode():
                    if f.is_corrupt:
                        raise InputError(f"corrupt video (frame {index} cannot be decoded cleanly)")
                    image = _upright(f.to_ndarray(format="rgb24"), info.rotation)
                    small, s = fit_side(image, detect_side)
                    time = float(f.pts * tb) if f.pts is not None else index / float(info.rate)
                    duration = durations.pop(f.pts, 0) or int(f.duration or 0)
                    dx, dy = camera.step(small)
                    _put(out, Frame(index, f.pts, duration, time, image, small, s, shift=(dx / s, dy / s)), stop)
                    index += 1
    except (InputError, _Stopped):
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise _av_error(exc) from exc
    if index == 0:
        raise InputError("no video frames could be decoded")
    if info.frames and packets < info.frames:
        raise InputError(f"truncated video: {packets} of the {info.frames} frames its header lists are present")
    _put(out, END, stop)


def _encode(src: Path, dst: Path, info: VideoInfo, crf: int, keep_audio: bool, frames: queue.Queue,
            stop: threading.Event, producer: threading.Thread, console) -> None:
    """Encoder stage: libx264 with the input's timestamps and rotation, audio packets copied between frames."""
    out = av.open(str(dst), "w", format="mp4")
    audio_in = av.open(str(src)) if keep_audio and info.audio else None
    try:
        vs = out.add_stream("libx264", rate=info.rate)
        vs.width, vs.height = info.width, info.height
        # 4:2:0 needs even sizes; an odd-sized video keeps its exact size in 4:4:4
        vs.pix_fmt = "yuv420p" if info.width % 2 == 0 and info.height % 2 == 0 else "yuv444p"
        vs.time_base = info.time_base
        vs.codec_context.time_base = info.time_base
        vs.options = {"crf": str(int(crf)), "preset": X264_PRESET}
        if info.rotation:
            vs.set_display_rotation(info.rotation)
        audio_map, transcode = {}, {}
        if audio_in is not None:
            for a in audio_in.streams.audio:
                if a.codec_context.codec.canonical_name in MP4_AUDIO:
                    audio_map[a.index] = out.add_stream_from_template(a)
                else:  # MP4 cannot hold this codec: the sound is kept, re-encoded as AAC
                    console.warn(f"{src.name}: audio codec {a.codec_context.codec.canonical_name} cannot go into MP4 unchanged; "
                                 "re-encoded as AAC")
                    audio_map[a.index] = out.add_stream("aac", rate=a.codec_context.sample_rate,
                                                        layout=a.codec_context.layout)
                    transcode[a.index] = True
            audio_packets = audio_in.demux(*audio_in.streams.audio)
        pending_audio = None
        durations: dict[int, int] = {}

        def mux_audio(until: float | None) -> None:
            """Copy the audio packets up to time ``until`` (all that remain when None)."""
            nonlocal pending_audio
            if audio_in is None:
                return
            while True:
                if pending_audio is None:
                    pending_audio = next(audio_packets, END)
                    if pending_audio is END:
                        return
                p = pending_audio
                if p.dts is not None and until is not None and float(p.dts * p.time_base) > until:
                    return
                pending_audio = None
                target = audio_map[p.stream.index]
                if p.stream.index in transcode:
                    for af in p.decode():
                        af.pts = None
                        for q in target.encode(af):
                            out.mux(q)
                    continue
                if p.dts is None:  # the demuxer's end-of-stream marker
                    continue
                p.stream = target
                out.mux(p)

        def mux_video(packets) -> None:
            for p in packets:
                if durations.get(p.pts):  # the input frame's own duration (the last frame's sets the end)
                    p.duration = durations[p.pts]
                durations.pop(p.pts, None)
                mux_audio(float(p.dts * p.time_base) if p.dts is not None else None)
                out.mux(p)

        last_pts = -1
        while True:
            item = _get(frames, stop, producer)
            if item is END:
                break
            pts, duration, image = item
            frame = av.VideoFrame.from_ndarray(_stored(image, info.rotation), format="rgb24")
            if pts is None or pts <= last_pts:  # containers without timestamps: frame-rate steps
                pts = last_pts + max(1, round(1 / (info.rate * info.time_base)))
            frame.pts, frame.time_base = pts, info.time_base
            durations[pts] = duration
            last_pts = pts
            mux_video(vs.encode(frame))
        mux_video(vs.encode(None))
        if audio_in is not None:
            mux_audio(None)
            for index in transcode:
                for q in audio_map[index].encode(None):
                    out.mux(q)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise RuntimeError(f"encoding failed ({' '.join(str(exc).split())})") from exc
    finally:
        out.close()
        if audio_in is not None:
            audio_in.close()


def fill_frames(redactor, images: list[np.ndarray], regions: list[list]) -> list[np.ndarray]:
    """The job's fill on every frame's regions (frames without a region are passed through untouched)."""
    return redactor.apply(images, regions, PHOTO)


LOGOS = "logos"  # the logo detector's name in Redactor.detector_names


def _detect(redactor, batch: list[Frame]) -> list[list]:
    """Regions per frame in the frames' own pixels: the logo detector's on the keyframes at
    ``Settings.video_logo_side``, every other detector's on the small copies."""
    names = redactor.detector_names(document=False)
    h, w = batch[0].image.shape[:2]
    regions: list[list] = [[] for _ in batch]
    others = [n for n in names if n != LOGOS]
    if others:
        found = redactor.detect([f.small for f in batch], batch[0].index, document=False, only=others)
        for acc, f, regs in zip(regions, batch, found):
            acc.extend(r.scaled(1 / f.scale).clipped(w, h) for r in regs)
    if LOGOS in names:
        for acc, f in zip(regions, batch):
            if f.logo_key:
                image, s = fit_side(f.image, redactor.settings.video_logo_side)
                found = redactor.detect([image], f.index, document=False, only=[LOGOS])[0]
                acc.extend(r.scaled(1 / s).clipped(w, h) for r in found)
    return regions


def logo_keyframe_step(settings, fps: float) -> int:
    """Frames from one logo keyframe to the next (``Settings.video_logo_every`` seconds, at least 1)."""
    return max(1, round(settings.video_logo_every * fps))


def make_tracker(settings, fps: float, frame_bytes: int = 0) -> Tracker:
    """The video's tracker: faces (and text) bridge detector misses of ``GAP_SECONDS``; logos, found on keyframes
    only, bridge two keyframe intervals and are masked one interval before and after (see the module doc). Faces
    entering the frame are masked before their first detection as far back as ``HELD_FRAMES_BYTES`` of frames of
    ``frame_bytes`` each allow, at most ``ENTER_SECONDS``."""
    gap, edge = max(2, round(GAP_SECONDS * fps)), max(2, round(EDGE_SECONDS * fps))
    k = logo_keyframe_step(settings, fps)
    # linking reaches a keyframe interval's motion; a verified logo on one keyframe is masked (it stands for k frames)
    logo = TrackRule(max_gap=max(gap, 2 * k), pre=max(edge, k - 1), post=max(edge, k - 1),
                     max_centre_shift=1.5 * k, confirm_score=0.0)
    enter = min(round(ENTER_SECONDS * fps), HELD_FRAMES_BYTES // max(frame_bytes, 1))
    return Tracker(max_gap=gap, pre=edge, post=edge, border=round(BORDER_SECONDS * fps),
                   exit=round(EXIT_SECONDS * fps), enter=enter, rules={LOGO: logo})


@contextmanager
def _torch_threads(count: int | None):
    """torch's intra-op threads set to ``count`` for a while (None: left alone), then restored."""
    if count is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _detect_workers(redactor) -> int:
    """Batches detected at once. On the CPU each batch gets one worker thread with one torch thread: torch's own
    intra-op threads wait on each other at every layer and, on a busy machine, run several times slower than
    one thread (measured: 1.2 against 10 frames/s on 2 loaded cores), while separate batches never wait."""
    if not str(redactor.device).startswith("cpu") or redactor.detector_names(document=False) != ["faces"]:
        return 1  # a GPU runs one batch at a time; the text and logo detectors are not shared between threads
    return max(1, min(DETECT_WORKERS, os.cpu_count() or 1))


def redact_video_file(job, src: Path, dst: Path):
    """Redact every frame of ``src`` into ``dst`` (H.264 MP4). Returns an Outcome with one record per track."""
    src, dst = Path(src), Path(dst)
    info = probe(src)
    settings = job.settings
    redactor = job.redactor
    for name in redactor.detector_names(document=False):  # models load here, not in the worker threads
        redactor.detector(name)
    fps = float(info.rate)
    tracker = make_tracker(settings, fps, 3 * info.width * info.height)
    logo_step = logo_keyframe_step(settings, fps)
    workers = _detect_workers(redactor)
    on_cpu = str(redactor.device).startswith("cpu")
    batch_size = BATCH_CPU if on_cpu else BATCH_GPU
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    filled: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    decoder = _Stage(_decode, src, info, settings.video_detect_side, decoded, stop)
    encoder = _Stage(_encode, src, dst, info, settings.crf, settings.audio, filled, stop, None, job.console)
    waiting: dict[int, Frame] = {}
    count = 0
    decoder.start()
    encoder.start()
    try:
        with job.console.progress(total=info.frames or None, desc=src.name[-30:], unit="frame") as bar, \
                _torch_threads(1 if on_cpu else None), ThreadPoolExecutor(workers) as pool:
            detecting: deque = deque()  # (batch, its detections to come), in frame order
            ahead = _get(decoded, stop, decoder)  # one frame read ahead, so the last frame is known as the last
            finished = ahead is END
            while True:
                while not finished and len(detecting) <= workers:  # every worker busy, the next batch read
                    batch = []
                    while len(batch) < batch_size and ahead is not END:
                        frame, ahead = ahead, _get(decoded, stop, decoder)
                        frame.logo_key = frame.index % logo_step == 0 or ahead is END
                        batch.append(frame)
                    finished = ahead is END
                    if batch:
                        detecting.append((batch, pool.submit(_detect, redactor, batch)))
                if not detecting:
                    break
                batch, found = detecting.popleft()
                for frame, regions in zip(batch, found.result()):
                    tracker.update(frame.index, frame.time, regions, frame.shift,
                                   (frame.image.shape[1], frame.image.shape[0]))
                    waiting[frame.index] = frame
                count += len(batch)
                ready = tracker.ready(final=finished and not detecting)
                if ready:
                    frames = [waiting.pop(i) for i, _ in ready]
                    outs = fill_frames(redactor, [f.image for f in frames], [r for _, r in ready])
                    for f, image in zip(frames, outs):
                        _put(filled, (f.pts, f.duration, image), stop, encoder)
                    bar.update(len(ready))
        _put(filled, END, stop, encoder)
        encoder.join()
    except BaseException:
        stop.set()
        decoder.join()
        encoder.join()
        for stage in (decoder, encoder):  # the cause, not the stop it caused elsewhere
            if stage.error is not None and not isinstance(stage.error, _Stopped):
                raise stage.error
        raise
    decoder.join()
    for stage in (decoder, encoder):
        if stage.error is not None:
            raise stage.error
    if count == 0:
        raise InputError("no video frames could be decoded")
    return Outcome(tracks=tracker.finish(count - 1))
