"""Self-supervised RFR-Net training for one domain (``photo`` or ``page``), sized for a CPU; ``redact train`` is
the command line.

Samples.

* ``photo``: a random image of the folder (decoded once, kept in memory), scaled by a random factor (scale
  jitter), a random crop of ``size`` px, a random flip, a hole from ``inpaint.masks.random_mask`` (face-sized
  ellipses, boxes, words, lines, strokes, streaks); target = the crop.
* ``page``: crops of synthetic scanned pages (``inpaint.synthdocs``) rendered into an in-memory cache of
  ``PAGE_CACHE`` pages (each at 150, 200 or 300 dpi) when the run starts and renewed one page at a time as it goes (rendering never starves
  the network), plus crops of the real scans in the data folder. Half of the synthetic crops are masked over
  their personal data's boxes with the page scanned *without* it as the target (a removed name becomes paper
  with the page's tint and noise), the rest get random holes over the page whose target inside the hole is the
  page scanned with no text at all: a redaction hole always becomes paper, never ink (with the page itself as
  the target, holes over text taught the model to hedge towards ink: fills 6-8 grey levels too dark after
  340,000 images). Real scan crops get random holes only where they cover no ink.

Losses. Valid L1 x1, hole L1 x6 and total variation x0.1 (the official weights of those terms). The official
perceptual (x0.05) and style (x120) terms need VGG16 features; no pretrained VGG16 can be had offline, and the
substitute (the same VGG16 slice with seeded random weights, ``RandomVGGFeatures``) cost more than half of each
step on this CPU and left colour blotches and grid texture early on (two 30-minute probes, issue 18), so they
are off unless ``vgg=True``.

Precision and layout: bf16 autocast where the device has native bf16 (CUDA, or a CPU with AVX512-BF16 / AMX:
``inpaint.rfrnet.autocast_dtype``), fp16 with a gradient scaler on older CUDA; channels_last everywhere.

Runs are resumable and accountable: checkpoints (``inpaint.checkpoint`` format, official-compatible) every
``save_every`` steps, at the end, after ``minutes`` of wall time and on SIGINT/SIGTERM; each carries the
cumulative images seen and CPU hours, so the log of a model is one learning curve across runs. A run resumed
from weights without an optimiser state (the shipped float16 files) keeps the step and those counts and ramps
the learning rate up over ``WARMUP_STEPS`` steps, as a fresh Adam state would otherwise jolt the weights.
At the end of a run BatchNorm's running statistics are recomputed as a plain average over fresh batches with the
final weights (``recalibrate_batchnorm``: +0.2 to +0.6 dB PSNR in every bucket of the photo evaluation at 4,000
images seen); ``--steps 0`` does only that, on a checkpoint given to ``--resume``. ``--finetune``
freezes BatchNorm (statistics and affine) at the lower learning rate, the authors' fix for colour shifts.
"""
from __future__ import annotations

import json
import math
import signal
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn

from inpaint.checkpoint import load_into, read_checkpoint, save_checkpoint, width_of
from inpaint.masks import random_mask
from inpaint.rfrnet import OFFICIAL_WIDTH, RFRNet, autocast_dtype, keep_within_openmp_limit

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
DOMAINS = ("photo", "page")
LOSS_WEIGHTS = {"valid": 1.0, "hole": 6.0, "tv": 0.1}
VGG_WEIGHTS = {"perceptual": 0.05, "style": 120.0}
LR, FINETUNE_LR = 2e-4, 5e-5
BN_RECALIBRATION_STEPS = 60  # batches whose plain average replaces BatchNorm's running statistics at the end
WARMUP_STEPS = 100  # linear learning-rate ramp whenever the run starts without a saved optimiser state
PAGE_CACHE = 24  # synthetic pages held in memory
PAGE_DPIS = (150, 200, 300)  # each cached page at one of these (PDFs are rendered at 200 dpi, scans are 150-300)
CROPS_PER_PAGE = 64  # a cached page is replaced after this many crops were drawn from the cache
SCAN_SHARE = 0.15  # share of page samples cropped from the real scans of the data folder (holes over no ink)
INK_CONTRAST = 40  # grey levels below the local paper that count as ink in a real scan


# -- data ------------------------------------------------------------------------------------------------------

def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_EXTS and p.is_file())


def read_rgb(path: Path) -> np.ndarray | None:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if img is None else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def photo_crop(rng: np.random.Generator, image: np.ndarray, size: int) -> np.ndarray:
    """Scale jitter (the crop covers 30-100 % of the shorter side), a random crop, a random flip."""
    h, w = image.shape[:2]
    short = min(h, w)
    cover = rng.uniform(0.3, 1.0) * short
    scale = max(size / cover, size / short)
    nh, nw = max(size, int(round(h * scale))), max(size, int(round(w * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    image = cv2.resize(image, (nw, nh), interpolation=interp)
    y, x = int(rng.integers(0, nh - size + 1)), int(rng.integers(0, nw - size + 1))
    crop = image[y:y + size, x:x + size]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def load_synthdocs():
    """``inpaint.synthdocs.generate_page``, or None when that module is not there."""
    try:
        from inpaint.synthdocs import generate_page
    except ImportError:
        return None
    return generate_page


def box_mask(boxes, x: int, y: int, shape: tuple[int, int], pad: int = 2) -> np.ndarray:
    """The hole (bool, ``shape``) covering ``boxes`` (page pixels, grown by ``pad``) inside the crop at (x, y)."""
    mask = np.zeros(shape, bool)
    for bx0, by0, bx1, by1 in boxes:
        mask[max(0, int(by0 - y - pad)):max(0, int(by1 - y + pad)),
             max(0, int(bx0 - x - pad)):max(0, int(bx1 - x + pad))] = True
    return mask


def page_sample(rng: np.random.Generator, page, size: int):
    """(input, target, hole) from one synthetic page, half and half: over its personal data (target: the page
    without it) or a random hole (target inside it: the page with no text, its paper)."""
    h, w = page.image.shape[:2]
    boxes = [b for it in page.items for b in it.boxes]
    if boxes and rng.random() < 0.5:
        x0, y0, x1, y1 = boxes[int(rng.integers(len(boxes)))]
        cx, cy = (x0 + x1) / 2 + rng.uniform(-size / 4, size / 4), (y0 + y1) / 2 + rng.uniform(-size / 4, size / 4)
        x, y = int(np.clip(cx - size / 2, 0, w - size)), int(np.clip(cy - size / 2, 0, h - size))
        hole = box_mask(boxes, x, y, (size, size), pad=int(rng.integers(1, 5)))
        if hole.any() and not hole.all():
            return page.image[y:y + size, x:x + size], page.clean[y:y + size, x:x + size], hole
    x, y = int(rng.integers(0, w - size + 1)), int(rng.integers(0, h - size + 1))
    crop, hole = page.image[y:y + size, x:x + size], random_mask(rng, size, size)
    # redaction semantics: whatever a hole covers becomes paper (the page scanned with no text), never ink
    return crop, np.where(hole[..., None], page.blank[y:y + size, x:x + size], crop), hole


def ink_free_hole(rng: np.random.Generator, crop: np.ndarray, tries: int = 6) -> np.ndarray | None:
    """A random hole over no ink of a real scan's crop (its target is then the crop itself: paper), or None."""
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    ink = cv2.dilate((grey.astype(np.int16) < cv2.medianBlur(grey, 31).astype(np.int16) - INK_CONTRAST)
                     .astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    for _ in range(tries):
        hole = random_mask(rng, *grey.shape)
        if not (hole & ink).any():
            return hole
    return None


class PageSource:
    """Synthetic pages in memory (``cache`` of them), one replaced every ``CROPS_PER_PAGE`` crops, plus the real
    scans given."""

    def __init__(self, rng: np.random.Generator, scans: list[np.ndarray], size: int, generate_page=None,
                 cache: int = PAGE_CACHE):
        self.rng, self.size, self.scans = rng, size, [s for s in scans if min(s.shape[:2]) >= size]
        self.generate_page = generate_page or load_synthdocs()
        if self.generate_page is None:
            raise RuntimeError("page training needs inpaint.synthdocs")
        self.pages = [self.new_page() for _ in range(cache)]
        self.drawn = 0

    def new_page(self):
        return self.generate_page(self.rng, int(self.rng.choice(PAGE_DPIS)), rules=True)

    def sample(self):
        rng = self.rng
        if self.scans and rng.random() < SCAN_SHARE:
            crop = photo_crop(rng, self.scans[int(rng.integers(len(self.scans)))], self.size)
            hole = ink_free_hole(rng, crop)
            if hole is not None:
                return crop, crop, hole
        self.drawn += 1
        if self.drawn % CROPS_PER_PAGE == 0:
            self.pages[int(rng.integers(len(self.pages)))] = self.new_page()
        return page_sample(rng, self.pages[int(rng.integers(len(self.pages)))], self.size)


class PhotoSource:
    """Crops of a folder's photos, each decoded once."""

    def __init__(self, rng: np.random.Generator, photos: list[np.ndarray], size: int):
        if not photos:
            raise RuntimeError("no training images")
        self.rng, self.photos, self.size = rng, photos, size

    def sample(self):
        target = photo_crop(self.rng, self.photos[int(self.rng.integers(len(self.photos)))], self.size)
        return target, target, random_mask(self.rng, self.size, self.size)


def stop_workers(stream) -> str | None:
    """End the sample worker processes of a ``batch_stream`` (none without workers). A worker that dies on its way
    out ("terminate called without an active exception", seen on CUDA and once in CI on the CPU) has delivered
    all it was asked for: its error is returned, to be warned about, not raised."""
    if not hasattr(stream, "_shutdown_workers"):
        return None
    try:
        stream._shutdown_workers()
    except RuntimeError as exc:
        return str(exc)
    return None


def batches(source, batch_size: int):
    """Endless (image, target, known mask) float tensors of ``batch_size`` samples."""
    while True:
        items = [source.sample() for _ in range(batch_size)]
        yield (torch.stack([_chw(i) for i, _, _ in items]), torch.stack([_chw(t) for _, t, _ in items]),
               torch.stack([torch.from_numpy((~h)[None].astype(np.float32)) for _, _, h in items]))


class BatchStream(torch.utils.data.IterableDataset):
    """``batches`` of a domain's samples, made in DataLoader worker processes: each worker builds its own source
    (its own seed, and its share of the page cache), so a GPU is not held back by one CPU thread."""

    def __init__(self, domain: str, data_dir: Path | None, size: int, batch_size: int, seed, workers: int):
        super().__init__()
        self.domain, self.data_dir, self.size, self.batch_size = domain, data_dir, size, batch_size
        self.seed, self.workers = seed, workers

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid = info.id if info else 0
        torch.set_num_threads(1)
        cv2.setNumThreads(1)
        rng = np.random.default_rng([*self.seed, wid])
        cache = max(4, -(-PAGE_CACHE // self.workers))
        return batches(make_source(self.domain, self.data_dir, self.size, rng, cache), self.batch_size)


def batch_stream(domain: str, data_dir: Path | None, size: int, batch_size: int, rng_seed: list[int],
                 workers: int = 0):
    """Endless training batches: made in this process (``workers`` 0, the CPU recipe: the network has the cores)
    or in ``workers`` processes."""
    if workers <= 0:
        return batches(make_source(domain, data_dir, size, np.random.default_rng(rng_seed)), batch_size)
    check_data(domain, data_dir)  # a usage error here, not a traceback from a worker
    loader = torch.utils.data.DataLoader(BatchStream(domain, data_dir, size, batch_size, rng_seed, workers),
                                         batch_size=None, num_workers=workers, prefetch_factor=4,
                                         persistent_workers=False, multiprocessing_context="spawn")
    return iter(loader)


def _chw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a).astype(np.float32) / 255.0).permute(2, 0, 1)


# -- losses ----------------------------------------------------------------------------------------------------

class RandomVGGFeatures(nn.Module):
    """VGG16 conv1_1..conv3_3 with fixed seeded random weights (no pretrained VGG16 offline); frozen.

    Returns the outputs after pool1, pool2 and pool3, as the official loss network does.
    """

    def __init__(self, seed: int = 0):
        super().__init__()
        cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M"]
        layers, c = [], 3
        gen = torch.Generator().manual_seed(seed)
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            conv = nn.Conv2d(c, v, 3, padding=1)
            with torch.no_grad():
                conv.weight.normal_(0, math.sqrt(2.0 / (v * 9)), generator=gen)  # Kaiming, fan_out (torchvision VGG)
                conv.bias.zero_()
            layers += [conv, nn.ReLU(inplace=True)]
            c = v
        self.enc_1, self.enc_2, self.enc_3 = nn.Sequential(*layers[:5]), nn.Sequential(*layers[5:10]), \
            nn.Sequential(*layers[10:])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.requires_grad_(False)

    def forward(self, x):
        x = (x - self.mean) / self.std
        f1 = self.enc_1(x)
        f2 = self.enc_2(f1)
        return [f1, f2, self.enc_3(f2)]


def gram(f: torch.Tensor) -> torch.Tensor:
    b, c, h, w = f.shape
    f = f.reshape(b, c, h * w).float()
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def inpainting_losses(out, target, known, features: nn.Module | None = None) -> dict[str, torch.Tensor]:
    """The loss terms (unweighted): valid/hole L1 and TV, plus perceptual and style when ``features`` is given."""
    comp = out * (1 - known) + target * known
    hole_comp = comp * (1 - known)
    tv = (hole_comp[:, :, 1:] - hole_comp[:, :, :-1]).abs().mean() + \
         (hole_comp[:, :, :, 1:] - hole_comp[:, :, :, :-1]).abs().mean()
    terms = {"valid": ((target - out).abs() * known).mean(), "hole": ((target - out).abs() * (1 - known)).mean(),
             "tv": tv}
    if features is not None:
        f_t, f_o, f_c = features(target), features(out), features(comp)
        terms["perceptual"] = sum((a - b).abs().mean() + (a - c).abs().mean() for a, b, c in zip(f_t, f_o, f_c))
        terms["style"] = sum((gram(a) - gram(b)).abs().mean() + (gram(a) - gram(c)).abs().mean()
                             for a, b, c in zip(f_t, f_o, f_c))
    return terms


def total_loss(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    weights = {**LOSS_WEIGHTS, **VGG_WEIGHTS}
    return sum(weights[k] * v.float() for k, v in terms.items())


def train_step(model, optimizer, features, image, target, known, amp_dtype=None, scaler=None):
    """One optimiser step on a batch; returns the loss terms and the total (detached)."""
    with torch.autocast(image.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
        out = model(image * known, known)
    terms = inpainting_losses(out.float(), target, known, features)
    loss = total_loss(terms)
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
    return {k: v.detach() for k, v in terms.items()}, loss.detach()


@torch.no_grad()
def recalibrate_batchnorm(model: RFRNet, stream, steps: int, amp_dtype=None) -> None:
    """Replace every BatchNorm's running statistics by their plain average over ``steps`` fresh training batches
    drawn from ``stream`` (forward passes only). During training they are an exponential average of batches seen while the weights
    moved; evaluation then normalises with statistics of older weights."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [(bn.momentum, bn.training) for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average
        bn.train()
    dev = next(model.parameters()).device
    for _, (image, _, known) in zip(range(steps), stream):
        image, known = (t.to(dev).contiguous(memory_format=torch.channels_last) for t in (image, known))
        with torch.autocast(dev.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            model(image * known, known)
    for bn, (momentum, training) in zip(bns, saved):
        bn.momentum = momentum
        bn.train(training)


# -- the loop --------------------------------------------------------------------------------------------------

class StopFlag:
    """Set by SIGINT / SIGTERM while training, so the loop saves its checkpoint and ends cleanly."""

    def __init__(self):
        self.set = False

    def __enter__(self):
        self.previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _stop(self, *_):
        self.set = True

    def __exit__(self, *_):
        for s, handler in self.previous.items():
            signal.signal(s, handler)


def check_data(domain: str, data_dir: Path | None) -> list[Path]:
    """The image files of ``data_dir``; a usage error when the domain cannot be trained from them."""
    from redact.core.errors import UsageError

    paths = list_images(data_dir) if data_dir is not None else []
    if domain == "photo" and not paths:
        raise UsageError(f"no training images in {data_dir}")
    if domain == "page" and load_synthdocs() is None:
        raise UsageError("--domain page needs inpaint.synthdocs")
    return paths


def make_source(domain: str, data_dir: Path | None, size: int, rng: np.random.Generator, cache: int = PAGE_CACHE):
    from redact.core.errors import UsageError

    images = [img for img in (read_rgb(p) for p in check_data(domain, data_dir)) if img is not None]
    if domain == "photo":
        if not images:
            raise UsageError(f"no training images in {data_dir}")
        return PhotoSource(rng, images, size)
    return PageSource(rng, images, size, cache=cache)


def train(data_dir: Path | None, out_dir: Path, steps: int = 1000, batch_size: int = 8, size: int = 128,
          width: int = OFFICIAL_WIDTH, finetune: bool = False, lr: float | None = None, init: Path | None = None,
          resume: Path | None = None, domain: str = "photo", device: str = "cpu", seed: int = 0,
          save_every: int = 500, log_every: int = 50, half: bool = False, minutes: float | None = None,
          vgg: bool = False, workers: int = 0, console=None) -> dict:
    """Train (or fine-tune) and write ``out_dir/latest.pth`` (+ ``final.pth``). Returns a summary dict.

    Stops after ``steps`` steps, after ``minutes`` of wall time, or on SIGINT / SIGTERM, whichever comes first,
    and always saves.
    """
    from redact.core.console import Console
    from redact.core.errors import UsageError

    console = console or Console()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if size % 16:
        raise UsageError(f"--size must be a multiple of 16, not {size}")
    if domain not in DOMAINS:
        raise UsageError(f"--domain must be one of {', '.join(DOMAINS)}, not {domain!r}")
    ckpt = read_checkpoint(resume) if resume else (read_checkpoint(init) if init else None)
    progress = dict((ckpt or {}).get("progress", {})) if ckpt else {}
    start = int(ckpt.get("n_iter", 0)) if resume else 0
    torch.manual_seed(seed + start)
    stream = batch_stream(domain, data_dir, size, batch_size, [seed, start], workers)
    dev = torch.device(device)
    if ckpt is not None:
        width = width_of(ckpt["generator"])
    model = RFRNet(width)
    if ckpt is not None:
        load_into(model, ckpt["generator"], str(resume or init))
    model.to(dev).to(memory_format=torch.channels_last)
    model.train(True, finetune=finetune)
    lr = lr or (FINETUNE_LR if finetune else LR)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    warmup = WARMUP_STEPS  # a fresh Adam state takes full-size steps at once: ramp the rate up
    if resume and "optimizer_G" in ckpt:
        try:
            optimizer.load_state_dict(ckpt["optimizer_G"])
            for group in optimizer.param_groups:
                group["lr"] = lr
            warmup = 0
        except ValueError as exc:  # e.g. resumed with --finetune: a different parameter set
            console.warn(f"optimizer state not resumed ({exc})")
    features = RandomVGGFeatures().to(dev) if vgg else None
    amp_dtype = autocast_dtype(dev)
    keep_within_openmp_limit()
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    seen0, cpu0 = int(progress.get("images_seen", 0)), float(progress.get("cpu_hours", 0.0))
    t0, c0, seen = time.perf_counter(), time.process_time(), 0
    recipe = {"domain": domain, "size": size, "batch_size": batch_size, "lr": lr, "finetune": finetune,
              "vgg": vgg, "device": dev.type, "precision": str(amp_dtype).replace("torch.", "") if amp_dtype else "fp32"}

    def extra():
        return {"train": recipe, "progress": {"images_seen": seen0 + seen,
                                              "cpu_hours": round(cpu0 + (time.process_time() - c0) / 3600, 4)}}

    log_path = out_dir / "train_log.jsonl"
    history, acc, n_acc = [], {}, 0
    latest = out_dir / "latest.pth"
    step = start
    deadline = t0 + minutes * 60 if minutes else math.inf
    with StopFlag() as stop, console.progress(total=steps, desc=f"train {domain}", unit="step", leave=True) as bar, \
            open(log_path, "a") as log:
        for image, target, known in stream if steps > 0 else ():
            image, target, known = (t.to(dev).contiguous(memory_format=torch.channels_last)
                                    for t in (image, target, known))
            if step - start < warmup:
                for group in optimizer.param_groups:
                    group["lr"] = lr * (step - start + 1) / warmup
            terms, loss = train_step(model, optimizer, features, image, target, known, amp_dtype, scaler)
            step += 1
            seen += image.shape[0]
            for k, v in terms.items():
                acc[k] = acc.get(k, 0.0) + float(v)
            acc["total"] = acc.get("total", 0.0) + float(loss)
            n_acc += 1
            bar.update(1)
            done = step >= start + steps or time.perf_counter() >= deadline or stop.set
            if step % log_every == 0 or done:
                rec = {"step": step, **extra()["progress"], **{k: round(v / n_acc, 6) for k, v in acc.items()},
                       "images_per_s": round(seen / (time.perf_counter() - t0), 2), **recipe}
                history.append(rec)
                log.write(json.dumps(rec) + "\n")
                log.flush()
                bar.set_postfix_str(f"loss {rec['total']:.4f}")
                console.info(f"step {step}: loss {rec['total']:.4f} (hole L1 {rec['hole']:.4f}, "
                             f"valid L1 {rec['valid']:.4f}), {rec['images_per_s']} img/s")
                acc, n_acc = {}, 0
            if done:
                break
            if step % save_every == 0:
                save_checkpoint(latest, model, optimizer, step, extra=extra())
    if not finetune:  # (fine-tuning freezes BatchNorm: its statistics stay as they were)
        console.info(f"BatchNorm statistics: averaged over {BN_RECALIBRATION_STEPS} batches")
        recalibrate_batchnorm(model, stream, BN_RECALIBRATION_STEPS, amp_dtype)
    digest = save_checkpoint(latest, model, optimizer, step, extra=extra())
    final = out_dir / "final.pth"
    save_checkpoint(final, model, None, step, half=half, extra=extra())
    stopped = stop_workers(stream)  # the sample workers end with the run, after the weights are safe
    if stopped:
        console.warn(f"sample workers: {stopped}")
    return {"steps": step, "checkpoint": str(latest), "weights": str(final), "sha256": digest, "history": history,
            **extra()["progress"]}
