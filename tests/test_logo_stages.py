"""The logo detector's four stages, each on its own (detectors/logo_references.py, logo_proposals.py,
logo_alignment.py, logo_verification.py), on realistic scenes (tests/real_logo_scenes.py: real Papirus and
simple-icons marks, tuning seeds only)."""
from __future__ import annotations

import numpy as np
import pytest

from logo_scenes import coverage
from real_logo_scenes import Logo, draw_logos, load, make_scene, on_card, papirus_art, scene_photos
from redact.core.regions import build_mask
from redact.core.settings import Settings

SEED = 3  # a tuning seed


@pytest.fixture(scope="module")
def logos():
    return draw_logos(SEED)


@pytest.fixture(scope="module")
def detector(logos, tmp_path_factory):
    from detectors.logos import LogoDetector

    folder = tmp_path_factory.mktemp("real_logos")
    for logo in logos:
        logo.write(folder)
    return LogoDetector(Settings(logos=str(folder)))


def scene(logos, index, width, mode, seed):
    rng = np.random.default_rng(seed)
    photos = scene_photos(SEED)
    if not photos:
        pytest.skip("shared data photos not present beside the checkout")
    return make_scene(logos[index], load(photos[seed % len(photos)]), width, mode, rng)


def near(detector, H, sc) -> bool:
    """The pose's region covers the mark and is not much larger than it."""
    ref = next(r for r in detector.references if r.name == sc.logo)
    mask = build_mask([detector.region(ref, 1.0, H)], *sc.image.shape[:2])
    ys, xs = np.nonzero(sc.truth)
    return coverage(mask, sc.truth) >= 0.9 and mask.sum() <= 3 * (np.ptp(xs) + 1) * (np.ptp(ys) + 1)


def test_references_inside_is_the_mark_or_the_whole_card(tmp_path):
    """A transparent reference's inside is its opaque pixels; the same mark saved on its card (no alpha) is
    looked for as the whole card. Both get SIFT features and templates."""
    from detectors.logo_references import TEMPLATE_ANGLES, load_reference

    art = papirus_art("jupyter")
    carded, _ = on_card(art, (255, 255, 255))
    Logo("clear.png", art, art[..., 3] / 255, False).write(tmp_path)
    Logo("card.png", carded, carded[..., 3] / 255, True).write(tmp_path)
    clear, card = load_reference(tmp_path / "clear.png"), load_reference(tmp_path / "card.png")
    assert not clear.opaque and 0.3 < clear.inside.mean() < 0.95
    assert card.opaque and card.inside.all()
    for ref in (clear, card):
        assert len(ref.keypoints) == len(ref.descriptors) >= 30
        assert len(ref.templates) == len(TEMPLATE_ANGLES)
        assert all(abs(float(t.image.sum())) < 1e-3 and abs(float(np.linalg.norm(t.image)) - 1) < 1e-3
                   for t in ref.templates)
        assert all(t.edges.shape == (*t.image.shape, 2) and abs(float(np.linalg.norm(t.edges, axis=-1).sum()) - 1)
                   < 1e-3 for t in ref.templates)


def test_keypoints_propose_large_marks_and_templates_small_ones(logos, detector):
    """Over 8 scenes of each kind: a keypoint pose near the mark for marks of 120-300 px, a template pose near it
    for marks of 34-60 px (measured: 7 and 7 of 8)."""
    from detectors.logo_proposals import template_poses

    large = small = 0
    for k in range(8):
        sc = scene(logos, k % len(logos), 120 + 22 * k, ("photo", "sticker", "screen")[k % 3], k)
        ri = [r.name for r in detector.references].index(sc.logo)
        large += any(near(detector, H, sc) for H in detector.keypoint_index.poses(sc.image)[ri])
        sc = scene(logos, k % len(logos), 34 + 3 * k, ("photo", "sticker", "screen")[k % 3], 100 + k)
        ref = next(r for r in detector.references if r.name == sc.logo)
        small += any(near(detector, H, sc) for H in template_poses(sc.image, [ref])[0])
    assert large >= 7 and small >= 6, (large, small)


def test_alignment_brings_a_coarse_pose_onto_the_mark(logos, detector):
    """A pose as far off as a template proposal may be (10% too large, 7 degrees off, shifted by 5% of the mark)
    scores low; aligned, it scores as the mark does and lies on it."""
    from detectors.logo_alignment import ImageSampler, align, mark_size
    from detectors.logo_proposals import centre_and_size

    sc = scene(logos, 0, 140, "sticker", 5)
    ri = [r.name for r in detector.references].index(sc.logo)
    ref = detector.references[ri]
    sampler = ImageSampler(sc.image)
    score, H = max((align(sampler, ref, detector.frames[ri], H) for H in detector.keypoint_index.poses(sc.image)[ri]),
                   key=lambda r: r[0])
    assert near(detector, H, sc) and score >= detector.threshold
    w, h = ref.size
    to_centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1.0]])
    a = np.deg2rad(7)
    off = np.array([[1.1 * np.cos(a), -1.1 * np.sin(a), 0.05 * w], [1.1 * np.sin(a), 1.1 * np.cos(a), 0],
                    [0, 0, 1.0]])
    coarse = H @ np.linalg.inv(to_centre) @ off @ to_centre
    from detectors.logo_verification import score as verify

    frame = detector.frames[ri][64]
    assert verify(sampler.sample(frame, coarse, mark_size(coarse, ref)), frame) < score - 0.1
    again, H2 = align(sampler, ref, detector.frames[ri], coarse)
    assert again >= score - 0.02
    (c1, s1), (c2, s2) = centre_and_size(H, ref), centre_and_size(H2, ref)
    assert np.linalg.norm(c1 - c2) < 0.05 * s1 and abs(s2 / s1 - 1) < 0.08  # measured 0.3 px and 5%


def test_alignment_lays_large_tilted_marks_tightly(logos, detector):
    """The homography step runs 20 ECC iterations (was 40, for speed): large marks (300-500 px, turned and tilted
    in perspective) are still laid onto the mark, covered and not much larger than it, by the best-scoring
    aligned keypoint pose (measured: 4 of 4)."""
    from detectors.logo_alignment import ImageSampler, align

    laid = 0
    for k, (width, mode) in enumerate(((300, "photo"), (360, "sticker"), (430, "photo"), (500, "sticker"))):
        sc = scene(logos, 2 * k, width, mode, 40 + k)
        ri = [r.name for r in detector.references].index(sc.logo)
        sampler = ImageSampler(sc.image)
        aligned = [align(sampler, detector.references[ri], detector.frames[ri], H)
                   for H in detector.keypoint_index.poses(sc.image)[ri]]
        if not aligned:
            continue
        _, H = max(aligned, key=lambda a: a[0])
        mask = build_mask([detector.region(detector.references[ri], 1.0, H)], *sc.image.shape[:2])
        ys, xs = np.nonzero(sc.truth)
        laid += coverage(mask, sc.truth) >= 0.95 and mask.sum() <= 1.5 * (np.ptp(xs) + 1) * (np.ptp(ys) + 1)
    assert laid >= 3, laid


def test_verification_score_ignores_colour_and_background_but_not_shape():
    """The canonical correlation: a mark recoloured (channels swapped, inverted) on another background scores as
    the original; the same pixels shuffled do not."""
    from detectors.logo_verification import canonical

    rng = np.random.default_rng(0)
    features = np.stack([rng.random(400), rng.random(400), rng.random(400), (rng.random(400) > 0.3)], axis=1)
    image = features[:, :3] * 200 + 20
    assert canonical(image, features)[0] > 0.99
    assert canonical(255 - image[:, ::-1], features)[0] > 0.99
    assert canonical(image[rng.permutation(400)], features)[0] < 0.4


def test_canonical_correlation_with_a_frames_cached_features_is_the_textbook_one(logos, detector):
    """A frame's features carry their mean and ridged covariance inverse, computed once (``Features``, for
    speed): on a real scene sampled at a keypoint pose and off it, the canonical correlation and its directions
    are those of centring both sides and solving, as written out here."""
    from detectors.logo_alignment import ImageSampler, mark_size
    from detectors.logo_verification import VERIFY_SIDE, canonical

    def textbook(x, y):
        x, y = x - x.mean(axis=0), y - y.mean(axis=0)
        n = len(x)
        cxx = x.T @ x + np.eye(3) * (1e-2 * n)
        cyy = y.T @ y + np.eye(y.shape[1]) * (1e-6 * n + 1e-9)
        values, vectors = np.linalg.eig(np.linalg.solve(cxx, x.T @ y) @ np.linalg.solve(cyy, y.T @ x))
        i = int(np.argmax(values.real))
        return np.sqrt(values[i].real), vectors[:, i].real, np.linalg.solve(cyy, y.T @ x @ vectors[:, i].real)

    sc = scene(logos, 0, 140, "sticker", 5)
    ri = [r.name for r in detector.references].index(sc.logo)
    ref, frame = detector.references[ri], detector.frames[ri][VERIFY_SIDE]
    sampler = ImageSampler(sc.image)
    H = detector.keypoint_index.poses(sc.image)[ri][0]
    rhos = []
    for pose in (H, H @ np.array([[1, 0, ref.size[0] / 2], [0, 1, 0], [0, 0, 1.0]])):
        x = sampler.sample(frame, pose, mark_size(pose, ref))[frame.compared.ravel()].astype(np.float64)
        for features, _ in frame.features:
            rho, a, b = canonical(x, features)
            rho0, a0, b0 = textbook(x, features.values.astype(np.float64))
            assert abs(rho - rho0) < 1e-9
            # directions are defined up to a factor: compare their projections
            assert abs(np.corrcoef(x @ a, x @ a0)[0, 1]) > 1 - 1e-9
            assert abs(np.corrcoef(features.values @ b, features.values @ b0)[0, 1]) > 1 - 1e-9
            rhos.append(rho)
    assert min(rhos[:2]) > 0.9 > max(rhos[2:]), rhos  # on the mark, and half a mark off it


def test_the_detector_finds_real_marks_and_nothing_on_logo_free_photos(logos, detector):
    """12 realistic scenes (every placement, 50-400 px) and 12 logo-free photos of the tuning split: the mark is
    covered in at least 7 (measured 8 at the default threshold), and no photo gets a detection (measured 0)."""
    from real_logo_scenes import free_photos

    hits = 0
    for k in range(12):
        sc = scene(logos, k % len(logos), float(np.exp(np.log(50) + k * np.log(8) / 11)),
                   ("photo", "sticker", "print", "screen")[k % 4], 200 + k)
        mine = [r for r in detector.detect_one(sc.image) if r.label == sc.logo]
        hits += coverage(build_mask(mine, *sc.image.shape[:2], pad=2.0), sc.truth) >= 0.95
    assert hits >= 7, hits
    for path in free_photos(SEED, 12):
        assert detector.detect_one(load(path)) == [], path.name


def test_templates_propose_large_marks_keypoints_miss(logos, detector):
    """Over 8 scenes of marks 260-540 px (every placement): the template pyramid goes on past 128 px marks (their
    poses kept apart from the small marks'), and proposes a large mark that no keypoint pose is near (measured:
    keypoint poses near 5 of 8, template poses of marks over 128 px near 1, a screen, together 6)."""
    from detectors.logo_alignment import mark_size
    from detectors.logo_proposals import TEMPLATE_LARGEST, template_poses

    templated = keyed = either = 0
    for k in range(8):
        sc = scene(logos, k % len(logos), 260 + 40 * k, ("photo", "sticker", "print", "screen")[k % 4], 300 + k)
        ri = [r.name for r in detector.references].index(sc.logo)
        ref = detector.references[ri]
        t = any(near(detector, H, sc) for H in template_poses(sc.image, [ref])[0]
                if mark_size(H, ref) > TEMPLATE_LARGEST)
        s = any(near(detector, H, sc) for H in detector.keypoint_index.poses(sc.image)[ri])
        templated, keyed, either = templated + t, keyed + s, either + (t or s)
    assert templated >= 1 and either >= keyed + 1, (templated, keyed, either)


def test_edge_templates_propose_printed_marks_keypoints_and_colour_templates_miss(logos, detector):
    """Over 8 printed marks of 60-600 px (ink multiplied into a photo under a lighting ramp): the edge templates
    (the reference's edges in log colour, matched down to marks as long as the image) propose marks near which
    neither a keypoint pose nor a colour template pose lies (measured: edge poses near 6 of 8, the others near 4,
    3 near the edge poses only)."""
    from detectors.logo_proposals import edge_poses, pyramid, template_poses

    edged = only = 0
    for k in range(8):
        sc = scene(logos, k % len(logos), float(np.exp(np.log(60) + k * np.log(10) / 7)), "print", 500 + k)
        ri = [r.name for r in detector.references].index(sc.logo)
        ref, levels = detector.references[ri], pyramid(sc.image)
        edge = any(near(detector, H, sc) for H in edge_poses(sc.image, [ref], levels)[0])
        other = any(near(detector, H, sc) for H in detector.keypoint_index.poses(sc.image)[ri]
                    + template_poses(sc.image, [ref], levels)[0])
        edged, only = edged + edge, only + (edge and not other)
    assert edged >= 5 and only >= 2, (edged, only)


def test_verifier_accepts_true_marks_and_rejects_clutter_the_correlation_passes(logos, detector):
    """The learned verifier (detectors/logo_verifier.json) on aligned poses: the true mark of four scenes (a
    sticker, a print, a photo, a screen) is accepted; on two logo-free photos, every aligned pose of every reference
    that passes the canonical gate (clutter as well correlated as a mark) is rejected."""
    from detectors.logo_alignment import ImageSampler
    from real_logo_scenes import free_photos

    for k, width, mode, seed in ((0, 140, "sticker", 5), (5, 160, "print", 11), (2, 110, "photo", 7),
                                 (3, 120, "screen", 9)):
        sc = scene(logos, k, width, mode, seed)
        ri = [r.name for r in detector.references].index(sc.logo)
        sampler = ImageSampler(sc.image)
        aligned = [detector.aligned(sampler, detector.references[ri], detector.frames[ri], H)
                   for H in detector.proposals(sc.image)[ri]]
        assert max((p for H, p in aligned if near(detector, H, sc)), default=0) >= detector.threshold, (width, mode)
    weighed = []
    for path in free_photos(SEED, 2):
        image = load(path)
        sampler = ImageSampler(image)
        for ref, frames, poses in zip(detector.references, detector.frames, detector.proposals(image)):
            weighed += [p for _, p in (detector.aligned(sampler, ref, frames, H) for H in poses) if p > 0]
    assert weighed and max(weighed) < detector.threshold, sorted(weighed)[-3:]


def turned_scene(logo, width: float, degrees: float, seed: int):
    """The logo's mark ``width`` px long drawn onto a tuning photo turned by exactly ``degrees``, then blurred,
    noised and JPEG-compressed as the bench's scenes are."""
    from logo_scenes import degrade
    from real_logo_scenes import Scene, _homography, _warp

    rng = np.random.default_rng(seed)
    photos = scene_photos(SEED)
    if not photos:
        pytest.skip("shared data photos not present beside the checkout")
    photo = load(photos[seed % len(photos)]).astype(np.float32)
    art, truth = logo.art, logo.truth
    ys, xs = np.nonzero(truth > 0.5)
    art_width = width * max(art.shape[:2]) / (max(np.ptp(xs), np.ptp(ys)) + 1)
    h, w = photo.shape[:2]
    H = _homography(art.shape[1], art.shape[0], art_width, degrees, 0.0,
                    (rng.uniform(0.2 * w, 0.8 * w), rng.uniform(0.2 * h, 0.8 * h)), rng)
    layer = _warp(np.dstack([art.astype(np.float32), truth * 255]), H, photo.shape)
    a = layer[..., 3:4] / 255
    image = degrade(np.clip(photo * (1 - a) + layer[..., :3] * a + 0.5, 0, 255).astype(np.uint8), rng, blur=0.8,
                    noise=3, quality=75)
    return Scene(image, logo.name, layer[..., 4] >= 127.5, width, "photo")


def test_templates_propose_small_marks_turned_20_degrees(logos, detector):
    """The templates propose small marks (36-46 px) turned by 20 degrees either way (the most the bench turns a
    mark): over 10 scenes, one reference each, a template pose near the mark in at least 7 (measured 9 of 10 with
    the turned templates everywhere; 10 of 10 since they are correlated only near the upright one's peaks on
    these levels)."""
    from detectors.logo_proposals import template_poses

    near_count = 0
    for k in range(10):
        sc = turned_scene(logos[k], 36 + k, 20.0 if k % 2 else -20.0, 400 + k)
        ref = next(r for r in detector.references if r.name == sc.logo)
        near_count += any(near(detector, H, sc) for H in template_poses(sc.image, [ref])[0])
    assert near_count >= 7, near_count


def test_verifier_weighs_only_measures_that_earn_their_place(logos, detector):
    """The refitted verifier (tuning seeds 2-7) weighs the six measures the code computes (the edges' agreement
    added in v16), not the mark's size (dropped: it earned no true pose held out of the fit), and still accepts a
    real mark's aligned pose (a 160 px sticker)."""
    import json

    from detectors.logo_alignment import ImageSampler
    from detectors.logo_verification import EVIDENCE, MODEL_PATH

    model = json.loads(MODEL_PATH.read_text())
    assert tuple(model["evidence"]) == EVIDENCE and "log_size" not in EVIDENCE and len(EVIDENCE) == 6
    assert set(model["trained_on"]["seeds"]) == {2, 3, 4, 5, 6, 7}
    sc = scene(logos, 1, 160, "sticker", 21)
    ri = [r.name for r in detector.references].index(sc.logo)
    sampler = ImageSampler(sc.image)
    aligned = [detector.aligned(sampler, detector.references[ri], detector.frames[ri], H)
               for H in detector.proposals(sc.image)[ri]]
    assert max((p for H, p in aligned if near(detector, H, sc)), default=0) >= detector.threshold



def test_turned_templates_near_the_upright_peaks_read_the_full_correlation(logos, detector):
    """On the fine levels the turned templates are correlated only near the upright template's peaks
    (``turned_peaks``, for speed): each peak it returns is the full correlation's value at that place (a 40 px
    mark turned 15 degrees, every level of marks under TURNED_EVERYWHERE px)."""
    import cv2

    from detectors.logo_proposals import (CANDIDATES, TEMPLATE_SIDE, TURNED_EVERYWHERE, WHITEN, local_maxima,
                                          pyramid, response, turned_peaks, whitened)
    from detectors.logo_references import TEMPLATE_ANGLES

    sc = turned_scene(logos[1], 40, 15.0, 77)
    ref = next(r for r in detector.references if r.name == sc.logo)
    upright = ref.templates[TEMPLATE_ANGLES.index(0.0)]
    pad, box = TEMPLATE_SIDE // 2, int(round(WHITEN * TEMPLATE_SIDE)) | 1
    checked = 0
    for level, (sx, sy), _ in pyramid(sc.image):
        if TEMPLATE_SIDE / max(sx, sy) >= TURNED_EVERYWHERE:
            break
        channels = [cv2.copyMakeBorder(y, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
                    for y in whitened(level, box)]
        candidates = local_maxima(response(channels, upright), CANDIDATES)
        for t in ref.templates:
            if t is not upright:
                full = response(channels, t)
                for value, x, y in turned_peaks(channels, upright, t, candidates):
                    assert abs(full[y, x] - value) < 1e-4 * max(1.0, abs(value)), (x, y, value, full[y, x])
                    checked += 1
    assert checked >= 4 * 2 * 3, checked


def test_edges_of_a_mark_printed_into_a_textured_photo_agree_whatever_its_ink(logos, detector):
    """``edge_agreement`` (the verifier's edge evidence): a real mark multiplied into a real photo under a
    lighting gradient agrees with its reference in its own ink and printed in black and white (grey ink); the bare
    photo at the same pose, and the mark half its width off the pose, do not."""
    import cv2

    from detectors.logo_alignment import ImageSampler, mark_size
    from detectors.logo_verification import VERIFY_SIDE, edge_agreement

    photos = scene_photos(SEED)
    if not photos:
        pytest.skip("shared data photos not present beside the checkout")
    photo = load(photos[2]).astype(np.float32)
    h, w = photo.shape[:2]
    ri = next(i for i, r in enumerate(detector.references) if not r.opaque)
    ref, frame = detector.references[ri], detector.frames[ri][VERIFY_SIDE]
    rw, rh = ref.size
    s, a = 160 / max(rw, rh), np.deg2rad(12)
    H = np.array([[s * np.cos(a), -s * np.sin(a), w / 2], [s * np.sin(a), s * np.cos(a), h / 2], [0, 0, 1.0]])
    H = H @ np.array([[1, 0, -rw / 2], [0, 1, -rh / 2], [0, 0, 1.0]])
    ink = cv2.warpPerspective(ref.rgb.astype(np.float32) / 255, H, (w, h))
    inside = cv2.warpPerspective(ref.inside.astype(np.float32), H, (w, h))[..., None]
    light = np.linspace(0.6, 1.2, w, dtype=np.float32)[None, :, None]

    def agreement(image: np.ndarray, pose: np.ndarray) -> float:
        sampler = ImageSampler(np.clip(image * light, 0, 255).astype(np.uint8))
        return edge_agreement(sampler.sample(frame, pose, mark_size(pose, ref)).reshape(*frame.shape, 3), frame)

    printed = photo * (1 - inside + inside * ink)
    grey = photo * (1 - inside + inside * ink.mean(axis=-1, keepdims=True))
    off = H @ np.array([[1, 0, rw / 2], [0, 1, 0], [0, 0, 1.0]])
    values = [agreement(printed, H), agreement(grey, H), agreement(photo, H), agreement(printed, off)]
    assert min(values[:2]) > 0.4 and max(values[2:]) < 0.15, values
