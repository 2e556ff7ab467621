"""RFR-Net engine: the fast model against the slow reference, checkpoints, the fill, training, evaluation."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from inpaint.base import InpaintError
from inpaint.checkpoint import CheckpointError, load_model, read_checkpoint, save_checkpoint
from inpaint.rfrnet import RFRNet, parameter_count, reach_px
from conftest import SAMPLES, load_rgb
from rfr_reference import RefRFRNet


def random_weights(model: torch.nn.Module, seed: int) -> dict:
    """Random weights and BatchNorm statistics (not the identity init), so every layer matters."""
    g = torch.Generator().manual_seed(seed)
    sd = model.state_dict()
    for k, v in sd.items():
        if k.endswith("running_mean"):
            v.copy_(torch.rand(v.shape, generator=g) * 0.4 - 0.2)
        elif k.endswith("running_var"):
            v.copy_(torch.rand(v.shape, generator=g) * 1.5 + 0.5)
        elif k.endswith("ratio"):
            v.fill_(0.7)
        elif v.is_floating_point() and ("bn" in k or ".1." in k) and k.endswith("weight"):
            v.copy_(torch.rand(v.shape, generator=g) + 0.5)
        elif v.is_floating_point() and k.endswith("bias"):
            v.copy_(torch.rand(v.shape, generator=g) * 0.2 - 0.1)
    return sd


def random_masks(b: int, h: int, w: int, seed: int) -> torch.Tensor:
    from inpaint.masks import random_mask

    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.stack([~random_mask(rng, h, w) for _ in range(b)])[:, None].astype(np.float32))


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.fixture(scope="module")
def narrow_weights(tmp_path_factory):
    """A width-16 checkpoint with random weights (our format): the fill's mechanics, not its quality."""
    path = tmp_path_factory.mktemp("rfr") / "w16.pth"
    model = RFRNet(16)
    random_weights(model, 3)
    save_checkpoint(path, model)
    return path


def test_parameter_counts_and_narrow_file_size(tmp_path):
    assert parameter_count(RFRNet(64)) == 31_224_065
    assert parameter_count(RefRFRNet(64)) == 31_224_065
    narrow = RFRNet(32)
    path = tmp_path / "narrow.pth"
    save_checkpoint(path, narrow, half=True)
    assert path.stat().st_size < 16 * 2**20
    assert reach_px() == 81


@pytest.mark.parametrize("width,batch,size,train", [
    (16, 3, (64, 64), False),
    (16, 2, (48, 80), False),
    (8, 2, (96, 64), False),
    (8, 3, (64, 48), True),  # batch statistics (training mode)
    (64, 2, (32, 48), False),  # the official width
])
def test_fast_model_matches_reference(width, batch, size, train):
    torch.manual_seed(width + batch)
    fast, ref = RFRNet(width), RefRFRNet(width)
    ref.load_state_dict(random_weights(fast, width * 7 + size[0]))
    fast.train(train)
    ref.train(train)
    h, w = size
    image = torch.rand(batch, 3, h, w)
    mask = random_masks(batch, h, w, seed=h + w)
    with torch.no_grad():
        got = fast(image, mask)
        want = ref(image * mask, mask.expand(-1, 3, -1, -1))
    assert rel_err(got, want) < 1e-4


def test_inference_path_matches_reference_and_follows_new_weights():
    """``inpaint`` (channels_last weights and activations) matches the reference; reloading weights after a
    first run takes effect."""
    fast, ref = RFRNet(16).eval(), RefRFRNet(16).eval()
    random_weights(fast, 11)
    image, mask = torch.rand(2, 3, 64, 96), random_masks(2, 64, 96, seed=6)
    fast.inpaint(image, mask, "fp32")  # converts the model to channels_last
    ref.load_state_dict(random_weights(RFRNet(16), 12))
    fast.load_state_dict(ref.state_dict())
    with torch.no_grad():
        want = ref(image * mask, mask.expand(-1, 3, -1, -1)).clamp(0, 1) * (1 - mask) + image * mask
    assert rel_err(fast.inpaint(image, mask, "fp32"), want) < 1e-4


def test_output_ignores_pixels_under_the_mask():
    model = RFRNet(8).eval()
    random_weights(model, 1)
    image = torch.rand(2, 3, 64, 64)
    mask = random_masks(2, 64, 64, seed=5)
    other = torch.where(mask.bool(), image, torch.rand_like(image))
    with torch.no_grad():
        assert torch.equal(model(image, mask), model(other, mask))


def test_reach_is_81_px_per_side():
    """A centred square hole is filled everywhere up to a half-side of 81 px at 256 input, not beyond."""
    model = RFRNet(8).eval()
    image = torch.rand(2, 3, 256, 256)
    mask = torch.ones(2, 1, 256, 256)
    mask[0, :, 128 - 80:128 + 80, 128 - 80:128 + 80] = 0  # 80 px from every hole pixel to the edge: reached
    mask[1, :, 128 - 84:128 + 84, 128 - 84:128 + 84] = 0  # 84: the centre is beyond reach
    with torch.no_grad():
        _, reach = model(image, mask, return_reach=True)
    assert bool(reach[0].all())
    assert not bool(reach[1].all())


def test_checkpoint_round_trip_and_official_format(tmp_path):
    model = RFRNet(16)
    random_weights(model, 2)
    model.eval()
    digest = save_checkpoint(tmp_path / "ours.pth", model, n_iter=7)
    loaded, got_digest = load_model(tmp_path / "ours.pth")
    assert got_digest == digest and loaded.width == 16
    x, m = torch.rand(2, 3, 32, 32), random_masks(2, 32, 32, seed=1)
    with torch.no_grad():
        assert torch.equal(loaded(x, m), model(x, m))
    # the official layout: {"n_iter", "generator", "optimizer_G"}, state dict saved from the official names
    ref = RefRFRNet(16)
    ref.load_state_dict(model.state_dict())
    opt = torch.optim.Adam(ref.parameters())
    torch.save({"n_iter": 5, "generator": ref.state_dict(), "optimizer_G": opt.state_dict()}, tmp_path / "off.pth")
    official, _ = load_model(tmp_path / "off.pth", width=16)
    with torch.no_grad():
        assert torch.equal(official(x, m), model(x, m))


def test_mismatched_or_altered_checkpoints_fail_loudly(tmp_path):
    save_checkpoint(tmp_path / "w16.pth", RFRNet(16))
    with pytest.raises(CheckpointError, match="width 16"):
        load_model(tmp_path / "w16.pth", width=32)
    ckpt = read_checkpoint(tmp_path / "w16.pth")
    ckpt["generator"]["out.weight"] += 1  # altered after saving
    torch.save(ckpt, tmp_path / "altered.pth")
    with pytest.raises(CheckpointError, match="sha256"):
        load_model(tmp_path / "altered.pth")
    sd = RFRNet(16).state_dict()
    del sd["RFRModule.att.att.ratio"]
    sd["extra.weight"] = torch.zeros(1)
    torch.save({"generator": sd}, tmp_path / "keys.pth")
    with pytest.raises(CheckpointError, match="missing key.*RFRModule.att.att.ratio"):
        load_model(tmp_path / "keys.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_model(tmp_path / "junk.pth")
    torch.save({"model": sd}, tmp_path / "nogen.pth")
    with pytest.raises(CheckpointError, match="generator"):
        load_model(tmp_path / "nogen.pth")


def test_shipped_weights_are_checked(tmp_path):
    """Only float16 weights ship; a shipped file that differs from its manifest's sha256 is refused."""
    from inpaint.checkpoint import ship, shipped_weights

    model = RFRNet(8)
    random_weights(model, 3)
    save_checkpoint(tmp_path / "run.pth", model, half=True)
    save_checkpoint(tmp_path / "full.pth", model)
    folder = tmp_path / "weights"
    assert shipped_weights(folder) == {}
    with pytest.raises(CheckpointError, match="float16"):
        ship(tmp_path / "full.pth", "page", folder)
    ship(tmp_path / "run.pth", "photo", folder)
    assert shipped_weights(folder) == {"photo": folder / "photo.pth"}
    data = bytearray((folder / "photo.pth").read_bytes())
    data[len(data) // 2] ^= 1
    (folder / "photo.pth").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        shipped_weights(folder)


def test_inpaint_style_without_any_weights_refuses(tmp_path, cli_runner):
    from inpaint.rfr_fill import parse_weights
    from redact.cli import main

    with pytest.raises(InpaintError, match="--weights"):
        parse_weights({})
    src = tmp_path / "in"
    src.mkdir()
    import cv2

    cv2.imwrite(str(src / "a.png"), np.full((32, 32, 3), 200, np.uint8))
    res = cli_runner.invoke(main, ["images", str(src), "-o", str(tmp_path / "out"), "--style", "inpaint",
                                   "--detect", "faces", "--weights", str(tmp_path / "missing.pth")])
    assert res.exit_code != 0
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "missing.pth" in lines[0] and "Traceback" not in res.output
    assert not (tmp_path / "out" / "a.png").exists()


def _photo():
    photos = sorted((SAMPLES / "photos").glob("*"))
    img = load_rgb(photos[0])
    return img[:300, :420].copy()


def test_fill_changes_only_hole_and_ignores_hole_pixels(narrow_weights):
    from inpaint.rfr_fill import RFRFill

    fill = RFRFill("cpu", str(narrow_weights), precision="fp32")
    assert fill.name == "inpaint" and len(fill.model_id) == 12
    img = _photo()
    h, w = img.shape[:2]
    mask = np.zeros((h, w), bool)
    mask[40:70, 30:400] = True  # a text line: several tiles along it
    mask[150:290, 200:330] = True  # a large block: scaled down
    mask[5:15, 5:15] = True  # at the border
    other = img.copy()
    other[mask] = np.random.default_rng(0).integers(0, 256, (int(mask.sum()), 3))
    out, out_other = fill.fill([img, other], [mask, mask], "photo")
    assert (out[~mask] == img[~mask]).all()
    assert np.array_equal(out, out_other)  # nothing under the mask reaches the output
    assert not (out[mask] == img[mask]).all(axis=-1).all()


def test_every_hole_pixel_is_within_reach_of_its_tile(narrow_weights):
    """Large holes are scaled so the network reaches all of them: no pixel is left for the Telea fallback."""
    from inpaint.rfr_fill import RFRFill, plan_tiles

    fill = RFRFill("cpu", str(narrow_weights), precision="fp32")
    hole = np.zeros((700, 900), bool)
    hole[100:650, 150:800] = True  # 550 x 650: far beyond one tile's 2 x 81 px
    work = np.random.default_rng(1).random((700, 900, 3)).astype(np.float32) * (~hole)[..., None]
    plans = plan_tiles(hole)
    tiles, known = zip(*(p.extract(work, hole) for p in plans))
    _, reached = fill._run(fill.model_for("photo"), list(tiles), list(known))
    left = hole.copy()
    for p, out, ok in zip(plans, tiles, reached):
        p.paste(work.copy(), hole, left, out, ok)
    assert not left.any()


def test_per_domain_weights(narrow_weights, tmp_path):
    from inpaint.rfr_fill import RFRFill

    other = tmp_path / "photo.pth"
    m = RFRNet(16)
    random_weights(m, 9)
    save_checkpoint(other, m)
    fill = RFRFill("cpu", f"page={narrow_weights},photo={other}")
    assert fill.model_for("page") is not fill.model_for("photo")
    assert fill.model_id.startswith("page:") and ",photo:" in fill.model_id


def test_training_reduces_loss_and_resumes(tmp_path):
    from inpaint.train import RandomVGGFeatures, train, train_step

    torch.manual_seed(0)
    model = RFRNet(8).train()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    feats = RandomVGGFeatures()
    target = torch.from_numpy(load_rgb(sorted((SAMPLES / "photos").glob("*"))[0])[:64, :64].astype(np.float32)
                              / 255).permute(2, 0, 1)[None].repeat(2, 1, 1, 1)
    known = random_masks(2, 64, 64, seed=4)
    losses = [float(train_step(model, opt, feats, target, target, known)[1]) for _ in range(8)]
    assert losses[-1] < 0.8 * losses[0]
    # the loop: checkpoints, log, resume continues the step count
    data = SAMPLES / "photos"
    first = train(data, tmp_path, steps=2, batch_size=2, size=32, width=8, log_every=1, save_every=1)
    assert first["steps"] == 2 and (tmp_path / "train_log.jsonl").read_text().count("\n") == 2
    again = train(data, tmp_path, steps=1, batch_size=2, size=32, resume=tmp_path / "latest.pth")
    assert again["steps"] == 3
    assert read_checkpoint(tmp_path / "latest.pth")["n_iter"] == 3


def test_page_samples_teach_that_a_hole_becomes_paper():
    """Whatever a training hole covers on a page (a name, or any text under a random hole), its target there is
    the paper of that page, never ink: with the page itself as the target the fills hedged towards ink."""
    from inpaint.synthdocs import generate_page
    from inpaint.train import page_sample

    rng = np.random.default_rng(3)
    page = generate_page(rng, 100)
    inked = []
    for _ in range(40):
        image, target, hole = page_sample(rng, page, 64)
        inked.append(((cv2.cvtColor(target, cv2.COLOR_RGB2GRAY) < 128) & hole).sum() / hole.sum())
    assert max(inked) < 0.01


def test_samples_made_by_worker_processes_differ_and_feed_training(tmp_path):
    """With ``workers`` (a lent GPU), batches come from DataLoader processes, each with its own seed."""
    from inpaint.train import batch_stream, stop_workers, train

    stream = batch_stream("photo", SAMPLES / "photos", 32, 2, [0, 0], workers=2)
    (a, ta, ka), (b, tb, kb) = next(stream), next(stream)
    assert a.shape == b.shape == (2, 3, 32, 32) and ka.shape == (2, 1, 32, 32)
    assert not torch.equal(ta, tb)  # the two workers do not draw the same crops
    stop_workers(stream)  # a worker dying on its way out is warned about, not raised (it failed CI once)
    done = train(SAMPLES / "photos", tmp_path, steps=2, batch_size=2, size=32, width=8, workers=2)
    assert done["steps"] == 2 and done["images_seen"] == 4


def test_masks_and_metrics():
    from inpaint.evaluate import psnr, ssim
    from inpaint.masks import KINDS, random_mask, ratio_mask

    rng = np.random.default_rng(0)
    for kind in KINDS:
        m = random_mask(rng, 128, 128, kinds=(kind,))
        assert m.any() and not m.all()
    for low in (0.1, 0.3, 0.5):
        assert low <= ratio_mask(rng, 128, 128, low, low + 0.1).mean() < low + 0.1
    a = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert psnr(a, a) == float("inf") and ssim(a, a) == pytest.approx(1.0)
    b = np.clip(a.astype(int) + 10, 0, 255).astype(np.uint8)
    assert 20 < psnr(a, b) < 40 and ssim(a, b) < 1.0


def test_removed_text_on_a_page_comes_back_as_its_paper(monkeypatch):
    """The shipped page model fills removed personal data with the page's paper level: BatchNorm normalises page
    tiles with their own statistics (with the training ones the fills were 6-9 grey levels too dark). The page
    finishing stages are switched off here: their paper tone would hide a network that fills too dark."""
    import inpaint.rfr_fill
    from inpaint.rfr_fill import RFRFill

    monkeypatch.setattr(inpaint.rfr_fill, "finish_fill", lambda image, filled, hole, domain: filled)
    from inpaint.synthdocs import generate_page
    from inpaint.train import box_mask

    page = generate_page(np.random.default_rng(9001), 150)
    hole = box_mask([b for it in page.items for b in it.boxes], 0, 0, page.image.shape[:2], pad=2)
    out = RFRFill("cpu").fill([page.image], [hole], "page")[0]
    grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
    clean = cv2.cvtColor(page.clean, cv2.COLOR_RGB2GRAY).astype(float)
    assert abs((grey - clean)[hole].mean()) < 5 and np.abs(grey - clean)[hole].mean() < 7  # running stats: -9.3, 9.9


def test_a_filled_page_ignores_the_pixels_under_its_holes():
    """The whole page fill (network, paper tone, rules drawn across holes) reads nothing under a hole."""
    from inpaint.rfr_fill import RFRFill
    from inpaint.synthdocs import generate_page
    from inpaint.train import box_mask

    page = generate_page(np.random.default_rng(0), 150, kind="table", rules=True)
    hole = box_mask([b for it in page.items for b in it.boxes], 0, 0, page.image.shape[:2], pad=2)
    ys, xs = np.nonzero(hole)
    window = np.s_[ys.min():ys.min() + 400, xs.min():xs.min() + 500]  # ruled rows of names, phones, emails
    image, hole = page.image[window], hole[window]
    other = image.copy()
    other[hole] = np.random.default_rng(3).integers(0, 256, (int(hole.sum()), 3), dtype=np.uint8)
    fill = RFRFill("cpu")
    a, b = (fill.fill([x], [hole], "page")[0] for x in (image, other))
    assert np.array_equal(a, b)


def test_a_small_hole_gets_a_small_tile():
    """A word-sized hole is filled from one tile only as large as it plus its context margins, not 256 px."""
    from inpaint.rfr_fill import CONTEXT, TILE, plan_tiles

    hole = np.zeros((400, 600), bool)
    hole[100:120, 200:300] = True
    (plan,) = plan_tiles(hole)
    assert plan.size == plan.full == 240 < TILE  # 100 px + 2 x 64 px of context, rounded up to 16
    x0, y0, x1, y1 = plan.core
    assert (x0, y0, x1, y1) == (200, 100, 300, 120)
    assert plan.x0 <= x0 - CONTEXT and plan.x0 + plan.full >= x1 + CONTEXT


def test_a_hole_wider_than_a_tile_shows_no_seam_where_its_tiles_meet():
    """The group photo's five face boxes make one hole three tiles wide. It is filled in waves, each tile continuing
    the fill of the tiles beside it; filled side by side from the same context, neighbouring tiles met at a step of
    35 and 50 grey levels (summed over RGB) across their borders, against 3 between neighbouring hole pixels."""
    from inpaint.rfr_fill import RFRFill, plan_tiles

    img = load_rgb(SAMPLES / "photos" / "pyfeat_multi_face_5faces.jpg")
    hole = np.zeros(img.shape[:2], bool)
    for x0, y0, x1, y1 in [(413, 179, 542, 336), (656, 237, 816, 456), (286, 187, 441, 396), (186, 20, 335, 210),
                           (501, 261, 659, 472)]:  # MTCNN's boxes with the job's margin
        hole[y0:y1, x0:x1] = True
    borders = sorted({p.core[0] for p in plan_tiles(hole)} - {186})
    assert len(borders) == 2  # three tiles across
    out = RFRFill("cpu").fill([img], [hole], "photo")[0].astype(float)
    step = np.abs(out[:, 1:] - out[:, :-1]).sum(-1)
    inside = hole[:, 1:] & hole[:, :-1]
    for x in borders:
        assert step[:, x - 1][inside[:, x - 1]].mean() < 4 * step[inside].mean()  # one fill wave: 12x and 16x


def test_batchnorm_recalibration_averages_fresh_batches_and_restores_the_layers():
    from inpaint.train import PhotoSource, batches, recalibrate_batchnorm

    model = RFRNet(8)
    random_weights(model, 5)
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    photos = [load_rgb(SAMPLES / "photos" / "skimage_astronaut.png")]
    recalibrate_batchnorm(model, batches(PhotoSource(np.random.default_rng(0), photos, 32), 2), 3)
    after = model.state_dict()
    bn = model.bn1
    assert not bn.training and bn.momentum == 0.1 and int(bn.num_batches_tracked) == 3
    assert all(not torch.equal(before[k], after[k]) for k in before)


BF16_UNDER_A_THREAD_CAP = """
import os, sys
import detectors.ocr  # the text detectors load first in a document job
import numpy as np, torch
from inpaint.checkpoint import load_model, shipped_weights
torch.manual_seed(0)
torch.set_num_threads(2)
model, _ = load_model(shipped_weights()["page"])  # trained weights: random ones did not show the fault
image = torch.rand(2, 3, 256, 256)
mask = torch.ones(2, 1, 256, 256)
mask[:, :, 60:120, 40:200] = 0
bf16 = model.inpaint(image, mask, "bf16")
fp32 = model.inpaint(image, mask, "fp32")
print(bool(torch.isfinite(bf16).all()), float((bf16 - fp32).abs().max()))
"""


@pytest.mark.parametrize("env", [{}, {"OMP_THREAD_LIMIT": "1"}])
def test_bf16_inference_is_right_under_an_openmp_thread_cap(env):
    """Past an OpenMP thread cap oneDNN's bf16 kernels returned NaN and uncomputed tiles; the OCR module once set
    that cap in this very process (for tesseract), which broke every RFR-Net fill of a document job."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    res = subprocess.run([sys.executable, "-c", BF16_UNDER_A_THREAD_CAP], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, **env}, timeout=300)
    finite, diff = res.stdout.split()
    assert finite == "True" and float(diff) < 0.1, res.stderr[-2000:]
