"""RFR-Net checkpoints: the official format, and ours (the same dict plus a width and a sha256 of the weights).

The official training code saves ``{"n_iter": int, "generator": state_dict, "optimizer_G": ...}``; the published
CelebA and Paris StreetView weights are such files. Ours adds ``"format"``, ``"width"`` and ``"sha256"`` (a digest
of the generator's tensors: names, dtypes, shapes and bytes, in key order), so a file that was altered or
truncated is refused. Anything that does not match the model exactly (a missing or extra key, a wrong shape)
fails loudly with ``CheckpointError``; there is no fallback to random weights.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from inpaint.base import InpaintError
from inpaint.rfrnet import RFRNet

FORMAT = "redact-rfrnet/1"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST = "weights.json"  # {domain: {"file": name, "sha256": digest of the file's bytes}}


class CheckpointError(InpaintError):
    """The checkpoint cannot be used: unreadable, altered, or not an RFR-Net of the configured shape."""


def weights_digest(state_dict: dict) -> str:
    """sha256 over the tensors of a state dict (key order), independent of how the file was pickled."""
    h = hashlib.sha256()
    for key in sorted(state_dict):
        t = state_dict[key]
        if not torch.is_tensor(t):
            continue
        t = t.detach().to("cpu").contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint dict (tensors on CPU), its digest checked when it has one."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"RFR-Net weights {path} not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt, truncated, not a torch file, or pickled objects that are not weights
        raise CheckpointError(f"RFR-Net weights {path} cannot be read ({' '.join(str(exc).split())[:160]})") from exc
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("generator"), dict):
        raise CheckpointError(f"RFR-Net weights {path} have no 'generator' state dict (not an RFR-Net checkpoint)")
    stored = ckpt.get("sha256")
    if stored is not None and weights_digest(ckpt["generator"]) != stored:
        raise CheckpointError(f"RFR-Net weights {path} fail their sha256 check (altered or damaged file)")
    return ckpt


def width_of(state_dict: dict) -> int:
    w = state_dict.get("Pconv1.weight")
    if w is None or w.dim() != 4:
        raise CheckpointError("not an RFR-Net state dict: no 'Pconv1.weight'")
    return int(w.shape[0])


def load_into(model: RFRNet, state_dict: dict, source: str = "checkpoint") -> None:
    """Load exactly: every key present, none extra, every shape equal; else CheckpointError naming the first few."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    extra = sorted(set(state_dict) - set(own))
    shapes = sorted(k for k in set(own) & set(state_dict) if tuple(own[k].shape) != tuple(state_dict[k].shape))
    if missing or extra or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s) e.g. {', '.join(missing[:3])}")
        if extra:
            parts.append(f"{len(extra)} unexpected key(s) e.g. {', '.join(extra[:3])}")
        if shapes:
            k = shapes[0]
            parts.append(f"{len(shapes)} shape mismatch(es) e.g. {k} {tuple(state_dict[k].shape)} vs "
                         f"{tuple(own[k].shape)}")
        raise CheckpointError(f"{source} does not match RFR-Net width {model.width}: {'; '.join(parts)}")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state_dict.items()}, strict=True)


def load_model(path: str | os.PathLike, width: int | None = None, device: str = "cpu") -> tuple[RFRNet, str]:
    """An RFR-Net in eval mode with the weights of ``path`` (official or ours), and the weights' sha256.

    ``width`` None: taken from the checkpoint; otherwise the checkpoint must have that width.
    """
    ckpt = read_checkpoint(path)
    sd = ckpt["generator"]
    found = width_of(sd)
    if width is not None and found != width:
        raise CheckpointError(f"RFR-Net weights {path} have width {found}, the configured model has width {width}")
    model = RFRNet(found)
    load_into(model, sd, f"RFR-Net weights {path}")
    digest = ckpt.get("sha256") or weights_digest(sd)
    return model.to(device).eval(), digest


def save_checkpoint(path: str | os.PathLike, model: RFRNet, optimizer=None, n_iter: int = 0, half: bool = False,
                    extra: dict | None = None) -> str:
    """Write our format (a superset of the official one) atomically; returns the weights' sha256.

    ``half``: store the weights as float16 (the shipped-file form; BatchNorm counters stay integers).
    """
    sd = {k: (v.detach().to("cpu").half() if half and v.is_floating_point() else v.detach().to("cpu").clone())
          for k, v in model.state_dict().items()}
    digest = weights_digest(sd)
    ckpt = {"format": FORMAT, "width": model.width, "n_iter": int(n_iter), "generator": sd, "sha256": digest}
    if optimizer is not None:
        ckpt["optimizer_G"] = optimizer.state_dict()
    if extra:
        ckpt.update(extra)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(ckpt, tmp)
    os.replace(tmp, path)
    return digest


def file_digest(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def shipped_weights(folder: Path = WEIGHTS_DIR) -> dict[str, Path]:
    """{domain: path} of the weights that ship with redact (``inpaint/weights``), each file checked against the
    sha256 its manifest records; a file that differs raises CheckpointError. Empty when none ship."""
    manifest = Path(folder) / MANIFEST
    if not manifest.is_file():
        return {}
    out = {}
    for domain, entry in json.loads(manifest.read_text()).items():
        path = Path(folder) / entry["file"]
        if not path.is_file() or file_digest(path) != entry["sha256"]:
            raise CheckpointError(f"shipped RFR-Net weights {path} are missing or fail their sha256 check "
                                  "(reinstall redact)")
        out[domain] = path
    return out


def ship(source: str | os.PathLike, domain: str, folder: Path = WEIGHTS_DIR) -> Path:
    """Copy a float16 checkpoint in as the shipped ``domain`` model and record its sha256 in the manifest."""
    ckpt = read_checkpoint(source)
    if any(v.dtype == torch.float32 for v in ckpt["generator"].values()) or "optimizer_G" in ckpt:
        raise CheckpointError(f"{source}: only float16 weights without optimiser state ship (redact train --half)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{domain}.pth"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(Path(source).read_bytes())
    os.replace(tmp, target)
    manifest = folder / MANIFEST
    entries = json.loads(manifest.read_text()) if manifest.is_file() else {}
    entries[domain] = {"file": target.name, "sha256": file_digest(target)}
    manifest.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
    return target
