"""Self-supervised RFR-Net training: crops of a folder of images (and synthetic scanned pages), masks drawn on
the fly, the official losses; ``redact train`` is the command line.

Samples. Photos: a random image of the folder, scaled by a random factor (scale jitter), a random crop of
``size`` px, a random horizontal flip, a mask from ``inpaint.masks.random_mask``; target = the crop. Pages (share
``docs`` of the batches, when ``redact.synthdocs`` is importable): a synthetic scanned page, crops around its
personal data; half of them masked over that data's boxes with the page scanned *without* it as the target
(the fill a redaction needs: paper, not made-up text), half with random masks over the page itself.

Losses (the official weights): valid L1 x1, hole L1 x6, perceptual x0.05, style x120, total variation x0.1.
The perceptual and style terms need VGG16 features and no pretrained VGG16 can be had offline, so the
substitute is the same VGG16 slice (conv1_1 .. conv3_3, the three pooled outputs the official loss uses) with
fixed, seeded random weights (Kaiming init, seed 0) and frozen. Random convolutional features keep the texture
statistics Gram-matrix losses compare (Ustyuzhaninov et al., "Texture synthesis using shallow convolutional
networks with random filters", 2016); they are weaker than trained ones at judging content. ``--finetune``
freezes BatchNorm (statistics and affine) and lowers the learning rate from 2e-4 to 5e-5, as the authors do
against colour shifts. On CUDA: bf16 autocast (fp16 with a gradient scaler where bf16 is missing),
channels_last. Checkpoints (``inpaint.checkpoint`` format, official-compatible) every ``save_every`` steps and
at the end, ``--resume`` continues one (weights, optimiser, step); progress on the terminal, one JSON line of
losses per ``log_every`` steps in ``train_log.jsonl``.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn

from inpaint.checkpoint import load_into, read_checkpoint, save_checkpoint, width_of
from inpaint.masks import random_mask
from inpaint.rfrnet import OFFICIAL_WIDTH, RFRNet

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
LOSS_WEIGHTS = {"valid": 1.0, "hole": 6.0, "perceptual": 0.05, "style": 120.0, "tv": 0.1}
LR, FINETUNE_LR = 2e-4, 5e-5


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
    """``redact.synthdocs.generate_page``, or None when that module is not there (yet)."""
    try:
        from redact.synthdocs import generate_page
    except ImportError:
        return None
    return generate_page


def page_samples(rng: np.random.Generator, generate_page, size: int, count: int, dpi: int = 150):
    """(input image, target, hole mask) crops of one synthetic page: half over its personal data, half random."""
    page = generate_page(rng, dpi)
    h, w = page.image.shape[:2]
    boxes = [b for it in page.items for b in it.boxes]
    out = []
    for i in range(count):
        if boxes and i % 2 == 0:
            x0, y0, x1, y1 = boxes[int(rng.integers(len(boxes)))]
            cx, cy = (x0 + x1) / 2 + rng.uniform(-size / 4, size / 4), (y0 + y1) / 2 + rng.uniform(-size / 4, size / 4)
            x, y = int(np.clip(cx - size / 2, 0, w - size)), int(np.clip(cy - size / 2, 0, h - size))
            mask = np.zeros((size, size), np.uint8)
            for bx0, by0, bx1, by1 in boxes:
                pad = 2
                mask[max(0, int(by0 - y - pad)):max(0, int(by1 - y + pad)),
                     max(0, int(bx0 - x - pad)):max(0, int(bx1 - x + pad))] = 1
            if not mask.any() or mask.all():
                mask = random_mask(rng, size, size).astype(np.uint8)
            out.append((page.image[y:y + size, x:x + size], page.clean[y:y + size, x:x + size], mask.astype(bool)))
        else:
            x, y = int(rng.integers(0, w - size + 1)), int(rng.integers(0, h - size + 1))
            crop = page.image[y:y + size, x:x + size]
            out.append((crop, crop, random_mask(rng, size, size)))
    return out


class Samples(torch.utils.data.IterableDataset):
    """Endless (image, target, known mask) float tensors; each worker draws with its own seed."""

    def __init__(self, images: list[Path], size: int, docs: float, seed: int):
        self.images, self.size, self.docs, self.seed = images, size, docs, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, info.id if info else 0, int(time.time_ns() % 2**31)])
        generate_page = load_synthdocs() if self.docs > 0 else None
        cache: dict[int, np.ndarray] = {}
        pending: list = []
        while True:
            if generate_page is not None and (pending or not self.images or rng.random() < self.docs):
                if not pending:
                    pending = page_samples(rng, generate_page, self.size, 8)
                image, target, hole = pending.pop()
            else:
                if not self.images:
                    raise RuntimeError("no training images and no synthetic documents")
                k = int(rng.integers(len(self.images)))
                if k not in cache:
                    img = read_rgb(self.images[k])
                    if img is None:
                        continue
                    if len(cache) < 512:
                        cache[k] = img
                else:
                    img = cache[k]
                target = photo_crop(rng, img, self.size)
                image, hole = target, random_mask(rng, self.size, self.size)
            yield (_chw(image), _chw(target), torch.from_numpy((~hole)[None].astype(np.float32)))


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


def inpainting_losses(out, target, known, features: nn.Module) -> dict[str, torch.Tensor]:
    """The official loss terms (unweighted): valid/hole L1, perceptual, style, TV."""
    comp = out * (1 - known) + target * known
    f_t, f_o, f_c = features(target), features(out), features(comp)
    perceptual = sum((a - b).abs().mean() + (a - c).abs().mean() for a, b, c in zip(f_t, f_o, f_c))
    style = sum((gram(a) - gram(b)).abs().mean() + (gram(a) - gram(c)).abs().mean() for a, b, c in zip(f_t, f_o, f_c))
    hole_comp = comp * (1 - known)
    tv = (hole_comp[:, :, 1:] - hole_comp[:, :, :-1]).abs().mean() + \
         (hole_comp[:, :, :, 1:] - hole_comp[:, :, :, :-1]).abs().mean()
    return {"valid": ((target - out).abs() * known).mean(), "hole": ((target - out).abs() * (1 - known)).mean(),
            "perceptual": perceptual, "style": style, "tv": tv}


def total_loss(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    return sum(LOSS_WEIGHTS[k] * v.float() for k, v in terms.items())


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


# -- the loop --------------------------------------------------------------------------------------------------

def train(data_dir: Path | None, out_dir: Path, steps: int = 1000, batch_size: int = 6, size: int = 256,
          width: int = OFFICIAL_WIDTH, finetune: bool = False, lr: float | None = None, init: Path | None = None,
          resume: Path | None = None, docs: float = 0.0, device: str = "cpu", workers: int = 0, seed: int = 0,
          save_every: int = 1000, log_every: int = 50, half: bool = False, console=None) -> dict:
    """Train (or fine-tune) and write ``out_dir/latest.pth`` (+ ``final.pth``). Returns a summary dict."""
    from redact.console import Console
    from redact.errors import UsageError

    console = console or Console()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if size % 16:
        raise UsageError(f"--size must be a multiple of 16, not {size}")
    images = list_images(data_dir) if data_dir is not None else []
    if docs > 0 and load_synthdocs() is None:
        console.warn("redact.synthdocs is not available: training on the image folder only")
        docs = 0.0
    if not images and docs <= 0:
        raise UsageError(f"no training images in {data_dir} (and no synthetic documents asked for)")
    torch.manual_seed(seed)
    dev = torch.device(device)
    start = 0
    ckpt = read_checkpoint(resume) if resume else (read_checkpoint(init) if init else None)
    if ckpt is not None:
        width = width_of(ckpt["generator"])
    model = RFRNet(width)
    if ckpt is not None:
        load_into(model, ckpt["generator"], str(resume or init))
    model.to(dev)
    if dev.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    model.train(True, finetune=finetune)
    lr = lr or (FINETUNE_LR if finetune else LR)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    if resume and "optimizer_G" in ckpt:
        try:
            optimizer.load_state_dict(ckpt["optimizer_G"])
        except ValueError as exc:  # e.g. resumed with --finetune: a different parameter set
            console.warn(f"optimizer state not resumed ({exc})")
        start = int(ckpt.get("n_iter", 0))
    features = RandomVGGFeatures().to(dev)
    amp_dtype = None
    if dev.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    loader = torch.utils.data.DataLoader(Samples(images, size, docs, seed + start), batch_size=batch_size,
                                         num_workers=workers, pin_memory=dev.type == "cuda")
    log_path = out_dir / "train_log.jsonl"
    history, acc, n_acc = [], {}, 0
    t0, seen = time.perf_counter(), 0
    latest = out_dir / "latest.pth"
    step = start
    with console.progress(total=steps, desc="train", unit="step", leave=True) as bar, open(log_path, "a") as log:
        for image, target, known in loader:
            if step >= start + steps:
                break
            image, target, known = image.to(dev), target.to(dev), known.to(dev)
            if dev.type == "cuda":
                image = image.contiguous(memory_format=torch.channels_last)
            terms, loss = train_step(model, optimizer, features, image, target, known, amp_dtype, scaler)
            step += 1
            seen += image.shape[0]
            for k, v in terms.items():
                acc[k] = acc.get(k, 0.0) + float(v.detach())
            acc["total"] = acc.get("total", 0.0) + float(loss.detach())
            n_acc += 1
            bar.update(1)
            if step % log_every == 0 or step == start + steps:
                rec = {"step": step, **{k: round(v / n_acc, 6) for k, v in acc.items()},
                       "images_per_s": round(seen / (time.perf_counter() - t0), 2), "lr": lr}
                history.append(rec)
                log.write(json.dumps(rec) + "\n")
                log.flush()
                bar.set_postfix_str(f"loss {rec['total']:.4f}")
                console.info(f"step {step}: loss {rec['total']:.4f} (hole L1 {rec['hole']:.4f}, "
                             f"valid L1 {rec['valid']:.4f}), {rec['images_per_s']} img/s")
                acc, n_acc = {}, 0
            if step % save_every == 0:
                save_checkpoint(latest, model, optimizer, step, extra={"train": {"size": size, "docs": docs}})
    digest = save_checkpoint(latest, model, optimizer, step, extra={"train": {"size": size, "docs": docs}})
    final = out_dir / "final.pth"
    save_checkpoint(final, model, None, step, half=half)
    return {"steps": step, "checkpoint": str(latest), "weights": str(final), "sha256": digest, "history": history}
