"""Linking per-frame detections into tracks, so that a face stays masked on the frames where the detector misses it.

A detector that looks at each frame alone misses a face now and then (motion blur, a hand over it, a turned
head), and that frame leaks. The tracker links detections of the same kind from frame to frame (box overlap,
or centre distance for fast motion, against the box predicted from the track's velocity), then masks every
frame of a track's span:

- frames where the track was detected: the detected box;
- gaps of up to ``max_gap`` frames between two detections: the box interpolated between them;
- ``pre`` frames before the first and ``post`` frames after the last detection: the end box, carried along
  by the track's velocity (and past every side of the frame that cut the end box: the face went on there);
- every box is the union of the track's boxes on the frame before, the frame itself and the frame after, grown
  by the track's speed there, and by its own speed for each frame it was not seen: masks grow with motion, by at
  most ``MAX_GROWTH`` of the box's size on each side. Without that bound a short track of false detections,
  whose boxes jump (a velocity of 27 px a frame) and which a pan carries for 25 frames, grew to a box of
  1500 px over the whole frame (a pan of the mexico photo).

When the camera moves (a pan), every box also moves with the picture's content: ``update`` takes each frame's
camera shift (``pipelines.camera``), links against boxes carried by it, and the boxes of frames where a track is
not detected follow it. A track whose first (last) detection touches the frame's border is a face entering
(leaving) the frame, cut by the border where the detector no longer finds it: it is masked on the frames
before (after) it for as long as its box, carried by the camera and its own motion, is still inside the frame:
at most ``max_gap`` frames, and up to ``border`` frames when that motion carries the box across the border (a
large face entering slowly is cut by the border for a second or more before the detector finds it). A face
leaving as the camera turns away from it may take longer to be carried out (a slow pan upwards leaves a large
face's mouth and chin in view for three seconds after its eyes went): after its last detection it is masked up
to ``exit`` frames when the camera's motion alone carries its box out of the frame within them. That costs no
memory: frames after a track's end need no look-ahead. A face entering the same way (a slow pan downwards brings
a large face in chin first, and MTCNN finds it three seconds later) is masked up to ``enter`` frames before its
first detection when a steady camera carried its box in within ``exit`` frames; those frames are held in memory
until then, so ``enter`` is what memory allows.

A track's own motion (its velocity over the content, less the camera's) is measured over its hits of up to
``VELOCITY_FRAMES`` frames, and along an axis where the border cuts its box, from the edge it does not cut: the
centre of a face's cut box moves at half the face's speed as it leaves, and a velocity read from it carried
a lost face's mask away from it (and grew it, by the drift, over the whole frame). Past ``border`` frames only
the camera carries the box.

Detections are linked by centre distance only when their sizes are alike (``MAX_SIZE_CHANGE``): a face leaving
by the border shrinks frame by frame as the border cuts it, never to half of itself between two detections,
and a small false detection near it must not pull its track away.

Each kind of region may have its own ``TrackRule`` (gap, pre, post, link distance, confirmation): logos in
videos are detected on keyframes only, so their tracks bridge the frames between keyframes and reach out to
the neighbouring keyframes. Regions come out as boxes (a detection's polygon lies inside its box, so the box
is a safe superset; between detections only boxes are interpolated).

A frame's regions are final once the tracker has seen ``lookahead`` frames after it (a gap or a track that
starts later can still reach back that far); ``ready`` hands them out in frame order, and memory holds only
that window, not the video.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from redact.core.regions import Box, Region


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def centre(b: Box) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def shifted(b: Box, dx: float, dy: float) -> Box:
    return (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)


def cut_sides(box: Box, size: tuple[int, int] | None) -> tuple[bool, bool, bool, bool]:
    """Which sides of a (clipped) box the frame's border cuts: left, top, right, bottom."""
    w, h = size or (float("inf"), float("inf"))
    return box[0] <= 0.5, box[1] <= 0.5, box[2] >= w - 0.5, box[3] >= h - 0.5


def motion(a: Box, carried: Box, b: Box, size: tuple[int, int] | None) -> tuple[float, float]:
    """How far a detection ``a`` moved to ``b`` on a later frame (``carried``: ``a`` moved by the camera to that
    frame): its centre's shift, except along an axis where the frame's border cuts either box (as a face leaves,
    its cut box's centre moves at half its speed, or stands still): there the shift of the edge the border does not
    cut, and none where it cuts both."""
    cut = [p or q for p, q in zip(cut_sides(a, size), cut_sides(b, size))]

    def axis(lo: int) -> float:
        hi = lo + 2
        cut_lo, cut_hi = cut[lo], cut[hi]
        if cut_lo and cut_hi:
            return 0.0
        if cut_lo or cut_hi:
            edge = hi if cut_lo else lo
            return b[edge] - carried[edge]
        return (b[lo] + b[hi] - carried[lo] - carried[hi]) / 2

    return axis(0), axis(1)


def union_box(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def lerp_box(a: Box, b: Box, t: float) -> Box:
    return tuple(x + (y - x) * t for x, y in zip(a, b))  # type: ignore[return-value]


BORDER = 0.25  # a box within this fraction of its size of the frame's edge touches the border
CAMERA_FRAMES = 8  # frames the camera's motion is averaged over past a track's end
VELOCITY_FRAMES = 8  # a track's own motion is measured from its earliest hit within this many frames
MAX_GROWTH = 1.0  # a box grows by motion at most this times its larger side on each side
MAX_SIZE_CHANGE = 2.0  # two boxes apart (no overlap) are linked only if neither's larger side is over this times
# the other's


@dataclass(frozen=True)
class TrackRule:
    """How the tracks of one kind of region are linked and masked."""

    max_gap: int  # frames a track may go undetected and still be masked (and linked across)
    pre: int  # frames masked before a track's first detection
    post: int  # and after its last
    # frames a track that starts (ends) at the frame's border is masked before (after) its detections while its
    # carried box is inside the frame; at least max_gap
    border: int = 0
    # frames a track that ends at the border is masked after its last detection while a steady camera alone
    # carries its box out of the frame (within these frames)
    exit: int = 0
    # frames a track that starts at the border is masked before its first detection while a steady camera alone
    # carried its box in (within ``exit`` frames)
    enter: int = 0
    max_centre_shift: float = 0.75  # link distance, in box sizes, when the boxes do not overlap
    # a track found on one frame only, less sure than this, is taken for a false alarm (not masked)
    confirm_score: float = 0.9

    @property
    def border_reach(self) -> int:
        """Frames before the first (after the last) detection a track is followed by its own motion."""
        return max(self.max_gap, self.border)

    @property
    def reach(self) -> int:
        """Frames before the first detection a track may be masked on."""
        return max(self.border_reach, self.enter)

    @property
    def reach_after(self) -> int:
        """Frames after the last detection a track may be masked on."""
        return max(self.border_reach, self.exit)


@dataclass
class Track:
    id: int
    kind: str
    detector: str
    label: str
    rule: TrackRule
    hits: dict[int, Region] = field(default_factory=dict)  # frame -> detection (the window's frames only)
    first: int = 0
    last: int = 0
    first_time: float = 0.0
    last_time: float = 0.0
    max_score: float = 0.0
    count: int = 0
    # motion in pixels per frame over the picture's content (less the camera's), from the earliest hit within
    # VELOCITY_FRAMES to the last (``motion``)
    velocity: tuple[float, float] = (0.0, 0.0)
    camera: dict[int, tuple[float, float]] = field(default_factory=dict)  # frame -> the content's total shift

    def moved(self, box: Box, since: int, frame: int) -> Box:
        """``box`` on frame ``since`` carried to ``frame`` by the camera."""
        (ax, ay), (bx, by) = self.shift_at(since), self.shift_at(frame)
        return shifted(box, bx - ax, by - ay)

    def shift_at(self, frame: int) -> tuple[float, float]:
        """The content's total shift on ``frame``; past the last frame seen (the video's end), the last one's."""
        if frame in self.camera or not self.camera:
            return self.camera.get(frame, (0.0, 0.0))
        last = max(self.camera)
        return self.camera[last] if frame > last else self.camera[min(self.camera)]

    def add(self, frame: int, time: float, region: Region, size: tuple[int, int] | None = None) -> None:
        if self.count:
            ref = min((k for k in self.hits if k >= frame - VELOCITY_FRAMES), default=self.last)
            if ref in self.hits:
                a = self.hits[ref].box
                dx, dy = motion(a, self.moved(a, ref, frame), region.box, size)
                self.velocity = (dx / (frame - ref), dy / (frame - ref))
        else:
            self.first, self.first_time = frame, time
        self.hits[frame] = region
        self.last, self.last_time = frame, time
        self.max_score = max(self.max_score, region.score)
        self.count += 1

    def predicted(self, frame: int) -> Box:
        b = self.moved(self.hits[self.last].box, self.last, frame)
        dt = frame - self.last
        return shifted(b, self.velocity[0] * dt, self.velocity[1] * dt)

    def record(self, masked_first: int, masked_last: int) -> dict:
        """The audit record: one per track, never one per frame."""
        return {"kind": self.kind, "track": self.id, "detector": self.detector, "first_frame": self.first,
                "last_frame": self.last, "first_time": round(self.first_time, 3),
                "last_time": round(self.last_time, 3), "max_score": round(self.max_score, 4),
                "frames": self.count, "masked_first_frame": masked_first, "masked_last_frame": masked_last,
                **({"label": self.label} if self.label else {})}


class Tracker:
    """Links detections into tracks and gives each frame its (grown, gap-filled) regions, in frame order.

    ``max_gap``, ``pre``, ``post``, ``max_centre_shift`` and ``confirm_score`` are the rule of every kind not
    named in ``rules`` (kind -> its own ``TrackRule``).
    """

    def __init__(self, max_gap: int = 12, pre: int = 4, post: int = 4, min_iou: float = 0.2,
                 max_centre_shift: float = 0.75, motion_growth: float = 1.0, confirm_score: float = 0.9,
                 rules: dict[str, TrackRule] | None = None, border: int = 0, exit: int = 0, enter: int = 0):
        self.default_rule = TrackRule(max_gap, pre, post, border=border, exit=exit, enter=enter,
                                      max_centre_shift=max_centre_shift, confirm_score=confirm_score)
        self.rules = dict(rules or {})
        self.min_iou = min_iou
        self.motion_growth = motion_growth  # pixels of growth per pixel/frame of speed
        # enough to know a track's second detection, and the camera's motion after its first, before its first frame
        self.lookahead = max(r.pre + r.reach for r in [self.default_rule, *self.rules.values()]) + CAMERA_FRAMES + 2
        # frames of camera motion kept: a box may be carried from a track's last detection this far
        self.camera_frames = self.lookahead + max(r.post + r.reach_after + 1 for r in [self.default_rule,
                                                                                        *self.rules.values()])
        self.tracks: list[Track] = []  # tracks that may still cover a frame not yet handed out
        self.records: list[dict] = []  # audit records of tracks that are complete
        self.seen = -1  # last frame given to update()
        self.camera: dict[int, tuple[float, float]] = {}  # frame -> the content's total shift since frame 0
        self.size: tuple[int, int] | None = None  # the frames' (width, height), when known
        self.emitted = -1  # last frame handed out by ready()
        self._next_id = 0

    def rule(self, kind: str) -> TrackRule:
        return self.rules.get(kind, self.default_rule)

    # -- linking -------------------------------------------------------------------------------------------
    def update(self, frame: int, time: float, regions: list[Region], shift: tuple[float, float] = (0.0, 0.0),
               size: tuple[int, int] | None = None) -> None:
        """The detections of ``frame`` (frames must come in order, each once), the camera's ``shift`` of the
        content from the frame before (pixels), and the frame's (width, height)."""
        if frame != self.seen + 1:
            raise ValueError(f"frames must come in order: got {frame} after {self.seen}")
        self.seen = frame
        x, y = self.camera.get(frame - 1, (0.0, 0.0))
        self.camera[frame] = (x + shift[0], y + shift[1])
        self.camera.pop(frame - self.camera_frames - 1, None)  # older than any box still carried
        self.size = size or self.size
        live = [t for t in self.tracks if frame - t.last <= t.rule.max_gap + 1 and t.count]
        pairs = []
        for ti, t in enumerate(live):
            pred = t.predicted(frame)
            for ri, r in enumerate(regions):
                if r.kind != t.kind or r.label != t.label:
                    continue
                overlap = iou(pred, r.box)
                (px, py), (rx, ry) = centre(pred), centre(r.box)
                sides = (max(pred[2] - pred[0], pred[3] - pred[1], 1.0),
                         max(r.box[2] - r.box[0], r.box[3] - r.box[1], 1.0))
                shift = ((px - rx) ** 2 + (py - ry) ** 2) ** 0.5 / max(sides)
                alike = max(sides) <= MAX_SIZE_CHANGE * min(sides)
                if overlap >= self.min_iou or (alike and shift <= t.rule.max_centre_shift):
                    pairs.append((overlap - shift, ti, ri))
        used_t, used_r = set(), set()
        for _, ti, ri in sorted(pairs, reverse=True):  # greedy: best match first
            if ti in used_t or ri in used_r:
                continue
            used_t.add(ti)
            used_r.add(ri)
            live[ti].add(frame, time, regions[ri], self.size)
        for ri, r in enumerate(regions):
            if ri not in used_r:
                t = Track(self._next_id, r.kind, r.detector, r.label, self.rule(r.kind), camera=self.camera)
                self._next_id += 1
                t.add(frame, time, r, self.size)
                self.tracks.append(t)

    # -- masking -------------------------------------------------------------------------------------------
    def _raw_box(self, t: Track, f: int) -> tuple[Box, int] | None:
        """The track's box on frame ``f`` before growth and the frames from there to its nearest detection,
        or None outside the track's masked span."""
        if f in t.hits:
            return t.hits[f].box, 0
        if t.first - t.rule.pre - t.rule.reach <= f < t.first:
            frames = t.first - f
            if frames <= t.rule.pre + t.rule.border_reach:
                vx, vy = self._start_velocity(t)
                box = shifted(t.moved(t.hits[t.first].box, t.first, f), -vx * frames, -vy * frames)
                if frames <= t.rule.pre or self._crossing(t, t.first, -1, frames, box):
                    return box, frames
            box = t.moved(t.hits[t.first].box, t.first, f)
            if self._carried_across(t, t.first, -1, box):
                return box, min(frames, t.rule.pre + t.rule.border_reach)
            return None
        if t.last < f <= t.last + t.rule.post + t.rule.reach_after:
            frames = f - t.last
            if frames <= t.rule.post + t.rule.border_reach:
                box = t.predicted(f)
                if frames <= t.rule.post or self._crossing(t, t.last, 1, frames, box):
                    return box, frames
            box = t.moved(t.hits[t.last].box, t.last, f)
            if self._carried_across(t, t.last, 1, box):
                return box, min(frames, t.rule.post + t.rule.border_reach)
            return None
        if t.first < f < t.last:
            before = max(k for k in t.hits if k < f)
            after = min(k for k in t.hits if k > f)
            box = lerp_box(t.moved(t.hits[before].box, before, f), t.moved(t.hits[after].box, after, f),
                           (f - before) / (after - before))
            return box, min(f - before, after - f)
        return None

    def _crossing(self, t: Track, end: int, step: int, frames: int, box: Box) -> bool:
        """Whether the track, past its end detection (``end``, its first with ``step`` -1 or its last with 1), is
        a face crossing the frame's border ``frames`` frames away with its carried ``box`` still in the frame.
        Within the gap (``max_gap`` frames past ``pre``/``post``) touching the border is enough; beyond it, up to
        ``border`` frames, the box must also be moving out: carried by its own and the camera's motion at the end
        (the camera's averaged over ``CAMERA_FRAMES``), out of the frame by the end of that span. A face that
        stays where the detector lost it (turned away, hidden) is not masked there for longer than the gap."""
        edge = t.hits[end].box
        if not (self._at_border(edge) and self._inside(box)):
            return False
        span = t.rule.post if step > 0 else t.rule.pre
        if frames <= span + t.rule.max_gap:
            return True
        cx, cy = self._camera_motion(t, end, step)  # the camera's motion of the box a frame, away from the end
        vx, vy = t.velocity if step > 0 else self._start_velocity(t)
        far = span + t.rule.border_reach
        return not self._inside(shifted(edge, (cx + step * vx) * far, (cy + step * vy) * far))

    def _carried_across(self, t: Track, end: int, step: int, box: Box) -> bool:
        """Whether the track, past its end detection (``end``, its first with ``step`` -1 or its last with 1), is a
        face a steady camera carried across the frame's border: its end box touches the border, ``box`` (that box
        carried by the camera alone) is still in the frame, and the camera's motion both before and after the end
        would carry the end box out within ``exit`` frames. A camera that stood still and shakes after the face
        turned away carries nothing out."""
        edge = t.hits[end].box
        if not (t.rule.exit and self._at_border(edge) and self._inside(box)):
            return False
        far = (t.rule.post if step > 0 else t.rule.pre) + t.rule.exit
        (ax, ay), (bx, by) = self._camera_motion(t, end, step), self._camera_motion(t, end, -step)
        after, before = shifted(edge, ax * far, ay * far), shifted(edge, -bx * far, -by * far)
        return not (self._inside(after) or self._inside(before))

    @staticmethod
    def _camera_motion(t: Track, end: int, step: int) -> tuple[float, float]:
        """The camera's mean shift of the content a frame over the ``CAMERA_FRAMES`` from ``end`` on, in the
        direction of ``step`` (1: later frames, -1: earlier ones; (0, 0) where no frame is known)."""
        k = max((k for k in range(1, CAMERA_FRAMES + 1) if end + step * k in t.camera), default=1)
        (ax, ay) = t.camera.get(end, (0.0, 0.0))
        (bx, by) = t.camera.get(end + step * k, (ax, ay))
        return (bx - ax) / k, (by - ay) / k

    def _at_border(self, box: Box) -> bool:
        """Whether the box touches the frame's border (within BORDER of its size): a face entering or leaving."""
        if self.size is None:
            return False
        w, h = self.size
        m = BORDER * max(box[2] - box[0], box[3] - box[1])
        return box[0] <= m or box[1] <= m or box[2] >= w - m or box[3] >= h - m

    def _inside(self, box: Box) -> bool:
        """Whether any of the box lies inside the frame."""
        w, h = self.size or (float("inf"), float("inf"))
        return box[0] < w and box[1] < h and box[2] > 0 and box[3] > 0

    def _start_velocity(self, t: Track) -> tuple[float, float]:
        """The track's own motion over its first hits (up to VELOCITY_FRAMES), as ``Track.velocity`` at its end."""
        frames = sorted(t.hits)
        f0 = frames[0]
        f1 = max(k for k in frames if k <= f0 + VELOCITY_FRAMES)
        if f1 == f0:
            return (0.0, 0.0)
        a = t.hits[f0].box
        dx, dy = motion(a, t.moved(a, f0, f1), t.hits[f1].box, self.size)
        return (dx / (f1 - f0), dy / (f1 - f0))

    def _box(self, t: Track, f: int) -> Box | None:
        here = self._raw_box(t, f)
        if here is None:
            return None
        box, unseen = here
        near = [box] + [r[0] for r in (self._raw_box(t, f - 1), self._raw_box(t, f + 1)) if r is not None]
        cx, cy = centre(box)
        speed = max(abs(centre(b)[0] - cx) + abs(centre(b)[1] - cy) for b in near)
        # frames the detector did not see: the face may have moved off the estimate by its speed per frame
        drift = unseen * (abs(t.velocity[0]) + abs(t.velocity[1]))
        x0, y0, x1, y1 = union_box(near)
        grow = min(self.motion_growth * (speed + drift), MAX_GROWTH * max(box[2] - box[0], box[3] - box[1]))
        grown = (x0 - grow, y0 - grow, x1 + grow, y1 + grow)
        end = t.first if f < t.first else t.last if f > t.last else None
        return grown if end is None else self._past_border(grown, t.hits[end].box)

    def _past_border(self, box: Box, edge: Box) -> Box:
        """``box``, carried from the end detection ``edge``, reaching past every side of the frame that cut
        ``edge``, by ``edge``'s larger side: the face went on past the border, and a camera that carries the box
        back into the frame shows that part of it. (A close-up larger than the frame, lost as a pan carried it
        down: its box, cut by the frame on every side, left the forehead above it bare.)"""
        if self.size is None:
            return box
        r = max(edge[2] - edge[0], edge[3] - edge[1])
        return tuple(v + side * r if cut else v  # type: ignore[return-value]
                     for v, side, cut in zip(box, (-1, -1, 1, 1), cut_sides(edge, self.size)))

    def _regions(self, f: int) -> list[Region]:
        out = []
        for t in self.tracks:
            if not self._confirmed(t):
                continue
            box = self._box(t, f)
            if box is None:
                continue
            hit = t.hits.get(f)
            score = hit.score if hit is not None else t.max_score
            out.append(Region(t.kind, box, score, t.detector, f, label=t.label))
        return out

    def _confirmed(self, t: Track) -> bool:
        return t.count >= 2 or t.max_score >= t.rule.confirm_score

    def ready(self, final: bool = False) -> list[tuple[int, list[Region]]]:
        """(frame, regions) for every frame whose regions can no longer change; all of them when ``final``."""
        upto = self.seen if final else self.seen - self.lookahead
        out = []
        for f in range(self.emitted + 1, upto + 1):
            out.append((f, self._regions(f)))
            self.emitted = f
            self._forget(f)
        return out

    def _forget(self, f: int) -> None:
        """Drop what no later frame needs: finished tracks become audit records, old hits are pruned."""
        keep = []
        for t in self.tracks:
            if t.last + t.rule.post + t.rule.reach_after < f and self.seen - t.last > t.rule.max_gap + 1:
                if self._confirmed(t):
                    self.records.append(t.record(max(0, t.first - t.rule.pre), t.last + t.rule.post))
                continue
            older = sorted(k for k in t.hits if k < f - 1)
            for k in older[:-1]:  # the newest of them still bounds a gap (and gives the track's velocity)
                del t.hits[k]
            keep.append(t)
        self.tracks = keep

    def finish(self, last_frame: int) -> list[dict]:
        """Every track's audit record, once all frames were handed out."""
        for t in self.tracks:
            if self._confirmed(t):
                self.records.append(t.record(max(0, t.first - t.rule.pre), min(last_frame, t.last + t.rule.post)))
        self.tracks = []
        return sorted(self.records, key=lambda r: r["track"])
