"""A slow, straightforward reference of RFR-Net's math: the test oracle for ``inpaint.rfrnet``.

It computes what the official code (github jingyuanli001/RFR-Inpainting) computes, the way it computes it:
every partial convolution carries a mask with as many channels as its input (the update mask is a convolution
of that mask with an all-ones kernel of the layer's full shape), and the Knowledge-Consistent Attention loops
over the batch, scoring every item with a 1x1 convolution whose kernels are that item's normalised features.
Parameter names are the official ones, so one state dict loads into both this and the fast model. Written from
the paper and the official code's description; no code was copied. Not for production: it exists to be
obviously right, and as the "official-cost" baseline in ``benchmarks/bench_rfrnet.py``.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class RefPartialConv(nn.Conv2d):
    """Partial convolution with a multi-channel mask (same shape as the input)."""

    def forward(self, x, mask):
        ones = torch.ones(self.out_channels, self.in_channels, *self.kernel_size, dtype=x.dtype, device=x.device)
        with torch.no_grad():
            update = F.conv2d(mask, ones, None, self.stride, self.padding, self.dilation)
            ratio = (self.in_channels * self.kernel_size[0] * self.kernel_size[1]) / (update + 1e-8)
            update = update.clamp(0, 1)
            ratio = ratio * update
        out = F.conv2d(x * mask, self.weight, None, self.stride, self.padding, self.dilation)
        return out * ratio, update


def _block(conv, channels, act):
    return nn.Sequential(conv, nn.BatchNorm2d(channels), act)


class RefKCA(nn.Module):
    """Knowledge-consistent attention, one batch item at a time."""

    def __init__(self):
        super().__init__()
        self.ratio = nn.Parameter(torch.ones(1))
        self.prev_scores = None
        self.prev_masks = None

    def forward(self, x, masks):
        b, c, h, w = x.shape
        if masks.shape[-1] != w:
            masks = F.interpolate(masks, (h, w))
        outs, all_scores = [], []
        for i in range(b):
            kernels = x[i].reshape(c, h * w).t().reshape(h * w, c, 1, 1) + 1e-7
            kernels = kernels / kernels.pow(2).sum(dim=(1, 2, 3), keepdim=True).sqrt()
            scores = F.conv2d(x[i:i + 1], kernels)  # (1, keys, h, w)
            scores = F.avg_pool2d(scores, 3, 1, 1) * 9  # summed over each query's 3x3 neighbourhood
            scores = F.softmax(scores, dim=1)
            if self.prev_scores is not None:
                r = self.ratio.abs() + 1e-7
                scores = (self.prev_scores[i:i + 1] * self.prev_masks[i:i + 1] + scores * r) / \
                         (self.prev_masks[i:i + 1] + r)
            all_scores.append(scores)
            outs.append(F.conv_transpose2d(scores, kernels))
        self.prev_scores = torch.cat(all_scores, 0)
        self.prev_masks = masks
        return torch.cat(outs, 0)


class RefAttention(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.att = RefKCA()
        self.combiner = nn.Conv2d(2 * channels, channels, 1)

    def forward(self, x, mask):
        return self.combiner(torch.cat([self.att(x, mask), x], 1))


class RefRFRModule(nn.Module):
    def __init__(self, c):
        super().__init__()
        relu = lambda: nn.ReLU(inplace=True)  # noqa: E731
        lrelu = lambda: nn.LeakyReLU(0.2, inplace=True)  # noqa: E731
        self.enc_1 = _block(nn.Conv2d(c, 2 * c, 3, 2, 1, bias=False), 2 * c, relu())
        self.enc_2 = _block(nn.Conv2d(2 * c, 4 * c, 3, 2, 1, bias=False), 4 * c, relu())
        self.enc_3 = _block(nn.Conv2d(4 * c, 8 * c, 3, 2, 1, bias=False), 8 * c, relu())
        for i in (4, 5, 6):
            setattr(self, f"enc_{i}", _block(nn.Conv2d(8 * c, 8 * c, 3, 1, 2, dilation=2, bias=False), 8 * c, relu()))
        self.att = RefAttention(8 * c)
        for i in (5, 4):
            setattr(self, f"dec_{i}", _block(nn.Conv2d(16 * c, 8 * c, 3, 1, 2, dilation=2, bias=False), 8 * c, lrelu()))
        self.dec_3 = _block(nn.ConvTranspose2d(16 * c, 8 * c, 4, 2, 1, bias=False), 8 * c, lrelu())
        self.dec_2 = _block(nn.ConvTranspose2d(12 * c, 4 * c, 4, 2, 1, bias=False), 4 * c, lrelu())
        self.dec_1 = _block(nn.ConvTranspose2d(6 * c, c, 4, 2, 1, bias=False), c, lrelu())

    def forward(self, x, mask):
        hs = [x]
        for i in range(1, 7):
            hs.append(getattr(self, f"enc_{i}")(hs[-1]))
        h = hs[6]
        for i in (5, 4, 3, 2, 1):
            h = getattr(self, f"dec_{i}")(torch.cat([h, hs[i]], 1))
            if i == 3:
                h = self.att(h, mask)
        return h


class RefBottleneck(nn.Module):
    def __init__(self, inplanes, planes):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, 4 * planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * planes)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        return F.relu(self.bn3(self.conv3(y)) + x)


class RefRFRNet(nn.Module):
    """Takes a 3-channel mask (1 known, 0 hole) like the official test code; returns the raw output."""

    def __init__(self, width: int = 64):
        super().__init__()
        c = width
        self.Pconv1 = RefPartialConv(3, c, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.Pconv2 = RefPartialConv(c, c, 7, 1, 3, bias=False)
        self.bn20 = nn.BatchNorm2d(c)
        self.Pconv21 = RefPartialConv(c, c, 7, 1, 3, bias=False)
        self.Pconv22 = RefPartialConv(c, c, 7, 1, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.RFRModule = RefRFRModule(c)
        self.Tconv = nn.ConvTranspose2d(c, c, 4, 2, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)
        self.tail1 = RefPartialConv(c + 3, c // 2, 3, 1, 1, bias=False)
        self.tail2 = RefBottleneck(c // 2, c // 8)
        self.out = nn.Conv2d(c, 3, 3, 1, 1, bias=False)

    def forward(self, image, mask):
        x1, m1 = self.Pconv1(image, mask)
        x1 = F.relu(self.bn1(x1))
        x1, m1 = self.Pconv2(x1, m1)
        x1 = F.relu(self.bn20(x1))
        feats, masks = [x1], [m1]
        x2, m2 = x1, m1
        att = self.RFRModule.att.att
        att.prev_scores = att.prev_masks = None
        for _ in range(6):
            x2, m2 = self.Pconv21(x2, m2)
            x2, m2 = self.Pconv22(x2, m2)
            x2 = F.leaky_relu(self.bn2(x2))
            x2 = self.RFRModule(x2, m2[:, :1])
            x2 = x2 * m2
            feats.append(x2)
            masks.append(m2)
        f, m = torch.stack(feats, 2), torch.stack(masks, 2)
        x3 = (f * m).mean(2) / (m.mean(2) + 1e-7)
        x4 = F.leaky_relu(self.bn3(self.Tconv(x3)))
        m4 = F.interpolate(m2, scale_factor=2)
        x5, _ = self.tail1(torch.cat([image, x4], 1), torch.cat([mask, m4], 1))
        x5 = F.leaky_relu(x5)
        return self.out(torch.cat([x5, self.tail2(x5)], 1))
