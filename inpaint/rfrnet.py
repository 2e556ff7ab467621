"""RFR-Net (Recurrent Feature Reasoning for image inpainting, Li et al., CVPR 2020), written for speed.

The architecture and the parameter names are the official ones (github jingyuanli001/RFR-Inpainting, MIT), so
the published checkpoints load (``inpaint.checkpoint``); the code is our own. Input: RGB in [0, 1] (B, 3, H, W)
and a mask (B, 1, H, W), 1 = known, 0 = hole; H and W multiples of 16. Output: the network's raw prediction
(``forward``) or the prediction composited over the known pixels (``inpaint``).

What differs from the official code, with identical math:

* **Single-channel masks.** The official partial convolutions carry a copy of the mask for every input channel
  and convolve it with an all-ones kernel of the layer's full shape: as costly as the layer itself. All those
  channels are equal, so here one channel carries the per-pixel count of known input channels and a k x k box
  sum gives the same update mask (integers, exact in float32). ``tail1`` mixes the image mask (3 channels) and
  the feature mask (64 channels): its count is ``3 * mask + c * feature_mask``.
* **Batched attention.** The official KCA loops over the batch and scores with a 1x1 convolution per item, then
  sums the scores over each query's 3x3 neighbourhood. Here the queries are box-summed first (the sum is
  linear, so this is the same number), and one batched matrix product scores every item: (N, C) x (C, N).
* **No module state.** The attention's previous scores travel as a value through the recurrence.
* **Inference layout and precision.** ``inpaint`` runs channels_last (it converts the weights on first use) under
  bf16 (or fp16) autocast on CUDA and on CPUs with native bf16 dot products; the masks and their counts always
  stay float32 (a count like 603 is not exact in bf16).

Mask growth ("reach"): each 7x7 partial conv grows the known area by 3 feature pixels per side. The head's
stride-2 conv covers 3 input pixels per side (1.5 feature pixels), ``Pconv2`` 3 more, and the 6 iterations of
two convs 36 more: 40.5 feature pixels = **81 input pixels per side**, whatever the input size. A hole wider
than 2 x 81 = 162 px (at the network's input scale) is not fully reached: its centre comes out of ``tail1``
with an update mask of 0, i.e. grey. ``inpaint.rfr_fill`` scales crops so that never happens.
"""
from __future__ import annotations

import os
from contextlib import nullcontext

import torch
import torch.nn as nn
import torch.nn.functional as F

OFFICIAL_WIDTH = 64
NARROW_WIDTH = 32  # 7.8 M parameters: 15.6 MB in fp16, one file under 16 MiB
MULTIPLE = 16  # H and W must be multiples of this (one stride-2 head and three stride-2 encoder convs)
ITERATIONS = 6


def reach_px(iterations: int = ITERATIONS) -> float:
    """How far (input pixels) the known area grows into a hole from every side: 81 for the official net."""
    head = 3 / 2 + 3  # Pconv1 (7x7, stride 2: 3 input px = 1.5 feature px) + Pconv2 (7x7: 3 feature px)
    loop = iterations * 2 * 3  # two 7x7 partial convs per iteration
    return 2 * (head + loop)  # feature pixels are 2 input pixels


def box_sum(x: torch.Tensor, k: int, stride: int = 1) -> torch.Tensor:
    """Sum over every k x k window with zero padding k // 2 (float32, exact for small integers)."""
    return F.avg_pool2d(x, k, stride, k // 2, count_include_pad=True, divisor_override=1)


class PartialConv2d(nn.Conv2d):
    """Partial convolution (Liu et al. 2018) with a single-channel known-channel count instead of a full mask.

    ``forward(x_masked, count)``: ``x_masked`` is the input already multiplied by its mask; ``count`` (B, 1, H, W,
    float32) is how many of the input channels are known at each pixel. Returns the output and the new mask
    (B, 1, H', W'), which is 1 wherever any input under the window was known.
    """

    def forward(self, x_masked, count):
        k = self.kernel_size[0]
        with torch.no_grad():
            update = box_sum(count, k, self.stride[0])
            ratio = (self.in_channels * k * k) / (update + 1e-8)
            update = update.clamp(0, 1)
            ratio = ratio * update
        out = F.conv2d(x_masked, self.weight, None, self.stride, self.padding)
        return out * ratio.to(out.dtype), update


class KnowledgeConsistentAttention(nn.Module):
    """KCA at 1/8 resolution, batched. ``ratio`` is the learnable weight of the current scores (init 1)."""

    def __init__(self):
        super().__init__()
        self.ratio = nn.Parameter(torch.ones(1))

    def forward(self, x, mask, prev):
        b, c, h, w = x.shape
        if mask.shape[-1] != w or mask.shape[-2] != h:
            mask = F.interpolate(mask, (h, w))
        keys = x.reshape(b, c, h * w) + 1e-7
        keys = keys / keys.pow(2).sum(1, keepdim=True).sqrt()  # every position, L2-normalised over channels
        queries = box_sum(x, 3).reshape(b, c, h * w)  # 3x3 neighbourhood sum, moved before the product
        scores = torch.softmax(torch.bmm(keys.transpose(1, 2), queries), dim=1)  # (b, keys, queries)
        mask = mask.reshape(b, 1, h * w)
        if prev is not None:
            prev_scores, prev_mask = prev
            r = self.ratio.abs() + 1e-7
            scores = (prev_scores * prev_mask + scores * r) / (prev_mask + r)
        out = torch.bmm(keys, scores.to(keys.dtype)).reshape(b, c, h, w)
        return out, (scores, mask)


class AttentionModule(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.att = KnowledgeConsistentAttention()
        self.combiner = nn.Conv2d(2 * channels, channels, 1)

    def forward(self, x, mask, prev):
        y, state = self.att(x, mask, prev)
        return self.combiner(torch.cat([y, x], 1)), state


def _block(conv: nn.Module, channels: int, act: nn.Module) -> nn.Sequential:
    return nn.Sequential(conv, nn.BatchNorm2d(channels), act)


class RFRModule(nn.Module):
    """The U-Net run at every iteration: encoder 3 stride-2 convs + 3 dilated convs, decoder with skips and KCA."""

    def __init__(self, c: int):
        super().__init__()
        relu, lrelu = (lambda: nn.ReLU(inplace=True)), (lambda: nn.LeakyReLU(0.2, inplace=True))
        self.enc_1 = _block(nn.Conv2d(c, 2 * c, 3, 2, 1, bias=False), 2 * c, relu())
        self.enc_2 = _block(nn.Conv2d(2 * c, 4 * c, 3, 2, 1, bias=False), 4 * c, relu())
        self.enc_3 = _block(nn.Conv2d(4 * c, 8 * c, 3, 2, 1, bias=False), 8 * c, relu())
        self.enc_4 = _block(nn.Conv2d(8 * c, 8 * c, 3, 1, 2, dilation=2, bias=False), 8 * c, relu())
        self.enc_5 = _block(nn.Conv2d(8 * c, 8 * c, 3, 1, 2, dilation=2, bias=False), 8 * c, relu())
        self.enc_6 = _block(nn.Conv2d(8 * c, 8 * c, 3, 1, 2, dilation=2, bias=False), 8 * c, relu())
        self.att = AttentionModule(8 * c)
        self.dec_5 = _block(nn.Conv2d(16 * c, 8 * c, 3, 1, 2, dilation=2, bias=False), 8 * c, lrelu())
        self.dec_4 = _block(nn.Conv2d(16 * c, 8 * c, 3, 1, 2, dilation=2, bias=False), 8 * c, lrelu())
        self.dec_3 = _block(nn.ConvTranspose2d(16 * c, 8 * c, 4, 2, 1, bias=False), 8 * c, lrelu())
        self.dec_2 = _block(nn.ConvTranspose2d(12 * c, 4 * c, 4, 2, 1, bias=False), 4 * c, lrelu())
        self.dec_1 = _block(nn.ConvTranspose2d(6 * c, c, 4, 2, 1, bias=False), c, lrelu())

    def forward(self, x, mask, prev):
        h1 = self.enc_1(x)
        h2 = self.enc_2(h1)
        h3 = self.enc_3(h2)
        h4 = self.enc_4(h3)
        h5 = self.enc_5(h4)
        h = self.enc_6(h5)
        h = self.dec_5(torch.cat([h, h5], 1))
        h = self.dec_4(torch.cat([h, h4], 1))
        h = self.dec_3(torch.cat([h, h3], 1))
        h, state = self.att(h, mask, prev)
        h = self.dec_2(torch.cat([h, h2], 1))
        return self.dec_1(torch.cat([h, h1], 1)), state


class Bottleneck(nn.Module):
    """ResNet bottleneck (expansion 4, identity shortcut)."""

    def __init__(self, inplanes: int, planes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, 4 * planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * planes)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = F.relu(self.bn2(self.conv2(y)), inplace=True)
        return F.relu(self.bn3(self.conv3(y)) + x, inplace=True)


class RFRNet(nn.Module):
    def __init__(self, width: int = OFFICIAL_WIDTH, iterations: int = ITERATIONS):
        super().__init__()
        if width % 8:
            raise ValueError(f"RFR-Net width must be a multiple of 8, not {width}")
        c = self.width = width
        self.iterations = iterations
        self.Pconv1 = PartialConv2d(3, c, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.Pconv2 = PartialConv2d(c, c, 7, 1, 3, bias=False)
        self.bn20 = nn.BatchNorm2d(c)
        self.Pconv21 = PartialConv2d(c, c, 7, 1, 3, bias=False)
        self.Pconv22 = PartialConv2d(c, c, 7, 1, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.RFRModule = RFRModule(c)
        self.Tconv = nn.ConvTranspose2d(c, c, 4, 2, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)
        self.tail1 = PartialConv2d(c + 3, c // 2, 3, 1, 1, bias=False)
        self.tail2 = Bottleneck(c // 2, c // 8)
        self.out = nn.Conv2d(c, 3, 3, 1, 1, bias=False)

    def forward(self, image: torch.Tensor, mask: torch.Tensor, return_reach: bool = False):
        """Raw prediction (B, 3, H, W) for ``image`` (B, 3, H, W) and ``mask`` (B, 1, H, W), 1 = known.

        ``return_reach``: also return the final feature mask at input resolution (B, 1, H, W): 0 where the
        recurrence never reached, i.e. where the prediction is not a fill but a grey guess.
        """
        b, _, h, w = image.shape
        if h % MULTIPLE or w % MULTIPLE:
            raise ValueError(f"RFR-Net input sides must be multiples of {MULTIPLE}, got {w}x{h}")
        mask = mask.float()
        image = image * mask.to(image.dtype)  # the network never sees the pixels under the hole
        c = self.width
        x, m = self.Pconv1(image, 3 * mask)
        x = F.relu(self.bn1(x), inplace=True)
        x, m = self.Pconv2(x * m.to(x.dtype), c * m)
        x = F.relu(self.bn20(x), inplace=True)
        # Running mask-weighted sum of the 7 feature maps (before the loop + every iteration).
        merged, weight = x * m.to(x.dtype), m.clone()
        state = None
        for _ in range(self.iterations):
            x, m = self.Pconv21(x * m.to(x.dtype), c * m)
            x, m = self.Pconv22(x * m.to(x.dtype), c * m)
            x = F.leaky_relu(self.bn2(x), inplace=True)
            x, state = self.RFRModule(x, m, state)
            x = x * m.to(x.dtype)
            merged = merged + x * m.to(x.dtype)
            weight = weight + m
        n = self.iterations + 1
        x = (merged / n) / (weight / n + 1e-7).to(merged.dtype)
        x = F.leaky_relu(self.bn3(self.Tconv(x)), inplace=True)
        m4 = F.interpolate(m, scale_factor=2)
        x, _ = self.tail1(torch.cat([image.to(x.dtype), x * m4.to(x.dtype)], 1), 3 * mask + c * m4)
        x = F.leaky_relu(x, inplace=True)
        out = self.out(torch.cat([x, self.tail2(x)], 1))
        return (out, m4) if return_reach else out

    def train(self, mode: bool = True, finetune: bool = False):
        """``finetune``: BatchNorm layers stay in eval mode (frozen statistics), the authors' fix for colour shifts."""
        super().train(mode)
        if mode and finetune:
            for module in self.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.eval()
                    for p in module.parameters():
                        p.requires_grad_(False)
        return self

    @torch.no_grad()
    def inpaint(self, image: torch.Tensor, mask: torch.Tensor, precision: str = "auto", return_reach: bool = False):
        """Prediction composited over the known pixels, clamped to [0, 1]: out * (1 - mask) + image * mask.

        ``precision``: "fp32", "bf16", "fp16" or "auto": bf16 on CUDA when supported (else fp16), bf16 on a CPU
        with native bf16 dot products (AVX512-BF16 or AMX: about 2x fp32 there), fp32 otherwise.
        """
        dtype = autocast_dtype(image.device, precision)
        keep_within_openmp_limit()
        self.to(memory_format=torch.channels_last)  # weights and activations NHWC: ~1.1x on CPU, more on CUDA
        image = image.contiguous(memory_format=torch.channels_last)
        ctx = torch.autocast(image.device.type, dtype=dtype) if dtype is not None else nullcontext()
        with ctx:
            out, reach = self(image, mask, return_reach=True)
        out = out.float().clamp(0, 1)
        mask = mask.float()
        out = out * (1 - mask) + image.float() * mask
        return (out, reach) if return_reach else out


def keep_within_openmp_limit() -> None:
    """Run torch on no more threads than ``OMP_THREAD_LIMIT`` allows: past the cap, oneDNN's bf16 kernels return
    garbage (NaN and uncomputed tiles, seen on this project's CPU) instead of running slower."""
    try:
        cap = int(os.environ.get("OMP_THREAD_LIMIT", "0"))
    except ValueError:
        return
    if 0 < cap < torch.get_num_threads():
        torch.set_num_threads(cap)


def autocast_dtype(device: torch.device, precision: str = "auto"):
    """The autocast dtype for a device and a precision name (None: plain float32)."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        return torch.float16
    if precision != "auto":
        raise ValueError(f"unknown precision {precision!r}; use auto, fp32, bf16 or fp16")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if _cpu_has_native_bf16() else None


def _cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 dot-product instructions (Linux: the avx512_bf16 or amx_bf16 flag)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return False
    return ("avx512_bf16" in flags or "amx_bf16" in flags) and bool(torch.backends.mkldnn.is_available())


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
