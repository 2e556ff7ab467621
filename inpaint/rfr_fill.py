"""The ``inpaint`` fill style: RFR-Net on images of any size.

RFR-Net sees a fixed-size tile and can only fill a hole up to its *reach*: the partial convolutions grow the
known area by 81 px per side at the network's input scale (``inpaint.rfrnet.reach_px``). So, per image:

1. The hole pixels are zeroed first and the hole mask is dilated only to group nearby holes (the words of a
   line, the pieces of a face mask) into one *region*; the network's hole is always the true mask.
2. Per region: ``d`` = the largest distance from a hole pixel to a known pixel. The region is scaled by
   ``s = min(1, SAFE_REACH / d)`` so every hole pixel is at most 60 px (of the 81 reachable) from known context.
3. The scaled region is covered by tiles of ``TILE`` px whose cores (tile minus a ``CONTEXT`` margin >= the
   safe reach) partition it; a region that fits one tile gets one tile centred on it, only as large as the
   region plus its margins (a multiple of 16 from ``SMALLEST_TILE``, the training size, up): a word or a small
   face does not pay for a 256 px tile. Scaling down marks a network pixel known only when all its source
   pixels were known, so nothing under the hole leaks in.
4. A region wider than one core is filled in four *waves*, by the parity of each tile's row and column in its
   region's grid: no two tiles of a wave touch, and each wave sees the fill of the waves before it as known
   context, so a core continues its neighbours' fill instead of meeting it at a seam (filled side by side from
   the same context, neighbouring cores disagreed at their border: rectangular seams across a group of faces).
   Within a wave, all tiles of all regions of all images of the call run in batches, are scaled back and only
   hole pixels of each tile's core are written. A hole pixel the network did not reach (rounding at tile edges) stays a hole
   for another pass over the partly filled image; after the last pass OpenCV Telea closes what is left, so no
   grey unfilled centre can reach the output.
5. Pages are finished as every page fill is (``inpaint.page_rules.finish_fill``): each hole's fill takes the tone
   of the paper around it (tiles normalised with their own statistics keep the brightness but can lose a paper's
   tint), and rules that cross a hole are drawn across it.

Weights: by default the models that ship in ``inpaint/weights`` (``page`` for document pages, ``photo`` for
photos and video frames; trained on a CPU, see their model cards there), each checked against the sha256 of
its manifest. ``weights`` overrides them: a checkpoint path (ours or the official format), a dict
``{"page": path, "photo": path}`` or the string ``"page=PATH,photo=PATH"``.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from inpaint.base import Fill, InpaintError, composite
from inpaint.page_rules import finish_fill
from inpaint.rfrnet import MULTIPLE

TILE = 256  # the largest tile
SMALLEST_TILE = 128  # the training crop size
SAFE_REACH = 60.0  # px at network scale (of the 81 the network reaches), leaves margin for rounding
CONTEXT = 64  # tile margin around a core; >= SAFE_REACH so a hole pixel's nearest known pixel is in its tile
GROUP_DILATE = 8  # holes closer than 2 x this share a region
MAX_PASSES = 3
TILE_STATISTICS = ("page",)  # domains whose BatchNorm layers normalise with the statistics of the tiles filled
NO_WEIGHTS = ("--style inpaint needs RFR-Net weights and none are installed: give --weights PATH (a checkpoint "
              "from `redact train` or the official RFR-Net release), or use --style telea")


def parse_weights(weights) -> dict[str, str]:
    """``{domain or "*": path}`` from a path, a dict, or "page=PATH,photo=PATH"; None: the shipped weights."""
    if weights is None or weights == "":
        from inpaint.checkpoint import shipped_weights

        weights = shipped_weights()
    if weights == {}:
        raise InpaintError(NO_WEIGHTS)
    if isinstance(weights, dict):
        bad = set(weights) - {"page", "photo", "*"}
        if bad:
            raise InpaintError(f"inpaint weights: unknown domain(s) {', '.join(sorted(bad))}; use page and photo")
        return {k: str(v) for k, v in weights.items()}
    text = str(weights)
    if "=" in text and not Path(text).exists():
        out = {}
        for part in text.split(","):
            domain, _, path = part.partition("=")
            out[domain.strip()] = path.strip()
        return parse_weights(out)
    return {"*": text}


class RFRFill(Fill):
    name = "inpaint"

    def __init__(self, device: str = "cpu", weights=None, precision: str = "auto", batch_size: int = 8,
                 width: int | None = None):
        import torch

        from inpaint.checkpoint import load_model

        paths = parse_weights(weights)
        self.device = torch.device(device)
        self.precision = precision
        self.batch_size = batch_size
        self.models, ids, loaded = {}, {}, {}
        for domain, path in paths.items():
            key = os.path.realpath(path)
            if key not in loaded:
                loaded[key] = load_model(path, width, str(self.device))
            self.models[domain], digest = loaded[key]
            ids[domain] = digest[:12]
        if len(set(ids.values())) == 1:
            self.model_id = next(iter(ids.values()))
        else:
            self.model_id = ",".join(f"{d}:{i}" for d, i in sorted(ids.items()))

    def model_for(self, domain: str):
        model = self.models.get(domain) or self.models.get("*")
        if model is None:
            raise InpaintError(f"inpaint weights: none given for {domain!r} images")
        return model

    # -- the network on a batch of tiles -------------------------------------------------------------------------

    def _run(self, model, tiles: list[np.ndarray], known: list[np.ndarray],
             tile_statistics: bool = False) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Fill tiles (float32 HxWx3 in [0, 1], known HxW bool). Returns the fills and where the net reached.

        ``tile_statistics``: BatchNorm normalises with the mean and variance of this batch of tiles (their holes are
        zero, so nothing under a mask enters them) instead of the running statistics of training. Page tiles
        (mostly paper around a few words) are far from the training crops' statistics: with the running ones, the
        page model filled removed text 6-9 grey levels too dark (hole MAE 7.1, Telea 6.1); with the tiles' own,
        2-5 on the same pages."""
        import torch

        bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)] if tile_statistics else []
        saved = [(bn.training, bn.track_running_stats) for bn in bns]
        for bn in bns:
            bn.train()
            bn.track_running_stats = False  # use the batch's statistics, leave the running ones untouched
        try:
            return self._forward(model, tiles, known)
        finally:
            for bn, (training, track) in zip(bns, saved):
                bn.train(training)
                bn.track_running_stats = track

    def _forward(self, model, tiles, known):
        import torch
        import torch.nn.functional as F

        outs, reached = [], []
        for i in range(0, len(tiles), self.batch_size):
            img = torch.from_numpy(np.stack(tiles[i:i + self.batch_size])).permute(0, 3, 1, 2).to(self.device)
            msk = torch.from_numpy(np.stack(known[i:i + self.batch_size])[:, None].astype(np.float32)).to(self.device)
            with torch.inference_mode():
                out, cover = model.inpaint(img, msk, self.precision, return_reach=True)
                cover = F.interpolate(cover, scale_factor=2) if cover.shape[-1] != out.shape[-1] else cover
            outs.extend(out.permute(0, 2, 3, 1).cpu().numpy())
            reached.extend((cover[:, 0] > 0).cpu().numpy() | known[i:i + self.batch_size])
        return outs, reached

    # -- the fill ------------------------------------------------------------------------------------------------

    def fill(self, images: Sequence[np.ndarray], masks: Sequence[np.ndarray], domain: str = "photo") -> list[np.ndarray]:
        model = self.model_for(domain)
        work = [img.astype(np.float32) / 255.0 * (~m)[..., None] for img, m in zip(images, masks)]  # holes zeroed
        todo = [m.astype(bool).copy() for m in masks]
        for _ in range(MAX_PASSES):
            plans = []  # (image index, tile plan)
            for idx, (img, hole) in enumerate(zip(work, todo)):
                if hole.any() and not hole.all():
                    plans.extend((idx, p) for p in plan_tiles(hole))
            if not plans:
                break
            for wave in sorted({p.wave for _, p in plans}):
                todo = self._fill_wave(model, domain, work, todo, [(i, p) for i, p in plans if p.wave == wave])
        result = []
        for image, mask, img, left in zip(images, masks, work, todo):
            if not mask.any():
                result.append(image)
                continue
            filled = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
            if left.any():  # the network could not reach these (or nothing was known): close them from the edges
                if left.all():
                    filled[:] = 0
                else:
                    filled = cv2.inpaint(filled, left.astype(np.uint8), 5, cv2.INPAINT_TELEA)
            result.append(composite(image, finish_fill(image, filled, mask.astype(bool), domain), mask))
        return result

    def _fill_wave(self, model, domain: str, work: list[np.ndarray], todo: list[np.ndarray],
                   plans: list[tuple[int, "TilePlan"]]) -> list[np.ndarray]:
        """Run the tiles of one wave (none of which touch) and write their fills into ``work``; returns the holes
        still to fill."""
        tiles, known = [], []
        for idx, p in plans:
            t, k = p.extract(work[idx], todo[idx])
            tiles.append(t)
            known.append(k)
        outs, reached = [None] * len(plans), [None] * len(plans)
        for side in {p.size for _, p in plans}:  # one batch shape per tile size
            idx = [i for i, (_, p) in enumerate(plans) if p.size == side]
            o, r = self._run(model, [tiles[i] for i in idx], [known[i] for i in idx], domain in TILE_STATISTICS)
            for i, oi, ri in zip(idx, o, r):
                outs[i], reached[i] = oi, ri
        new_todo = [t.copy() for t in todo]
        for (idx, p), out, ok in zip(plans, outs, reached):
            p.paste(work[idx], todo[idx], new_todo[idx], out, ok)
        return new_todo


class TilePlan:
    """One network tile: the integer source square it is scaled from, and the part of it (the core) it may write."""

    def __init__(self, x0: int, y0: int, full: int, core: tuple[int, int, int, int], size: int = TILE,
                 wave: int = 0):
        self.x0, self.y0, self.full, self.size, self.wave = x0, y0, full, size, wave
        self.scale = size / full
        self.core = core  # x0, y0, x1, y1 in source pixels

    def extract(self, image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The tile's image (0 in holes and outside the image) and its known mask.

        Scaling down averages areas; a tile pixel is known only where every source pixel under it was known,
        so no value under a hole can reach the network.
        """
        img = _crop(image, self.x0, self.y0, self.full, self.full)
        known = _crop((~hole).astype(np.float32), self.x0, self.y0, self.full, self.full)
        if self.full != self.size:
            img = cv2.resize(img, (self.size, self.size), interpolation=cv2.INTER_AREA)
            known = cv2.resize(known, (self.size, self.size), interpolation=cv2.INTER_AREA)
        k = known > 0.999
        return np.ascontiguousarray(img * k[..., None], np.float32), k

    def paste(self, image: np.ndarray, hole: np.ndarray, still: np.ndarray, out: np.ndarray, reached: np.ndarray):
        """Write the tile's fill into the hole pixels of its core (in ``image``) and clear them in ``still``."""
        h, w = hole.shape
        cx0, cy0, cx1, cy1 = self.core
        cx0, cy0, cx1, cy1 = max(0, cx0), max(0, cy0), min(w, cx1), min(h, cy1)
        if cx1 <= cx0 or cy1 <= cy0 or not hole[cy0:cy1, cx0:cx1].any():
            return
        s = self.scale  # core pixel (x, y) -> tile pixel s * (x + cx0 - x0 + 0.5) - 0.5 (pixel centres)
        m = np.array([[s, 0, s * (cx0 - self.x0 + 0.5) - 0.5], [0, s, s * (cy0 - self.y0 + 0.5) - 0.5]], np.float64)
        size = (cx1 - cx0, cy1 - cy0)
        inv = cv2.WARP_INVERSE_MAP
        back = cv2.warpAffine(out, m, size, flags=cv2.INTER_LINEAR | inv, borderMode=cv2.BORDER_REPLICATE)
        ok = cv2.warpAffine(reached.astype(np.uint8), m, size, flags=cv2.INTER_NEAREST | inv, borderValue=0) > 0
        write = hole[cy0:cy1, cx0:cx1] & ok
        image[cy0:cy1, cx0:cx1][write] = np.clip(back[write], 0, 1)
        still[cy0:cy1, cx0:cx1][write] = False


def _crop(a: np.ndarray, x0: int, y0: int, w: int, h: int) -> np.ndarray:
    """a[y0:y0+h, x0:x0+w] with zeros outside."""
    out = np.zeros((h, w) + a.shape[2:], a.dtype)
    H, W = a.shape[:2]
    ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if ax1 > ax0 and ay1 > ay0:
        out[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0] = a[ay0:ay1, ax0:ax1]
    return out


def plan_tiles(hole: np.ndarray, tile: int = TILE, context: int = CONTEXT, reach: float = SAFE_REACH) -> list[TilePlan]:
    """Tiles for every region of a hole mask (True = hole); see the module docstring."""
    padded = np.pad(hole.astype(np.uint8), 1, constant_values=1)  # outside the image is not known
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    k = 2 * GROUP_DILATE + 1
    grouped = cv2.dilate(hole.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    plans = []
    for i in range(1, n):
        x, y, bw, bh, _ = stats[i]
        region = (labels[y:y + bh, x:x + bw] == i) & hole[y:y + bh, x:x + bw]
        if not region.any():
            continue
        ys, xs = np.nonzero(region)
        d = float(dist[y:y + bh, x:x + bw][region].max())
        full = max(tile, int(math.ceil(tile * d / reach)))  # source side of a tile: scale = tile / full <= 1
        margin = int(math.ceil(context * full / tile))  # the context margin in source pixels
        side = full - 2 * margin  # a core's side in source pixels
        bx0, by0, bx1, by1 = x + xs.min(), y + ys.min(), x + xs.max() + 1, y + ys.max() + 1
        if full == tile and max(bx1 - bx0, by1 - by0) <= side:  # one tile at scale 1: only as large as needed
            small = max(SMALLEST_TILE, MULTIPLE * math.ceil((max(bx1 - bx0, by1 - by0) + 2 * margin) / MULTIPLE))
            if small < tile:
                cx, cy = (bx0 + bx1) // 2, (by0 + by1) // 2
                plans.append(TilePlan(cx - small // 2, cy - small // 2, small, (bx0, by0, bx1, by1), small))
                continue
        xs_ = _spans(bx0, bx1, side, margin, full)
        ys_ = _spans(by0, by1, side, margin, full)
        for row, (ty0, cy0, cy1) in enumerate(ys_):
            for col, (tx0, cx0, cx1) in enumerate(xs_):
                plans.append(TilePlan(tx0, ty0, full, (cx0, cy0, cx1, cy1), tile, wave=2 * (row % 2) + col % 2))
    return plans


def _spans(b0: int, b1: int, side: int, margin: int, full: int) -> list[tuple[int, int, int]]:
    """(tile start, core start, core end) along one axis: one centred tile if it fits, else cores of ``side``."""
    if b1 - b0 <= side:
        return [((b0 + b1) // 2 - full // 2, b0, b1)]
    return [(c - margin, c, min(b1, c + side)) for c in range(b0, b1, side)]
