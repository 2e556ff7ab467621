"""Logo detection with real brand marks (simple-icons-pack SVGs, CC0) composited onto real photos."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import load_rgb, shared
from logo_scenes import coverage, degrade, icon_svg, place_mark, pose_near, render_alpha
from redact.core.errors import ExitCode, InputError
from redact.core.regions import LOGO, build_mask
from redact.core.settings import Settings

MARKS = ("mailbox", "dropbox")


@pytest.fixture(scope="session")
def logo_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logos")
    for slug in MARKS:
        (folder / f"{slug}.svg").write_bytes(icon_svg(slug))
    return folder


@pytest.fixture(scope="session")
def logo_detector(logo_dir):
    from detectors.logos import LogoDetector

    return LogoDetector(Settings(logos=str(logo_dir)))


def box_area(placed) -> float:
    return float(cv2.contourArea(placed.quad))


def eval_photo(name: str) -> np.ndarray:
    return load_rgb(shared(f"photos/eval/plasma__{name}.jpg"))


SEED = 11
SCENES = 12  # logos 48-220 px wide, any rotation, perspective tilt up to 0.3, random colour, blur, noise, JPEG
RECALL_FLOOR = 0.7  # measured 0.75 (9/12) on this fixed-seed set; benchmarks/bench_logos.py has the figures


def make_scenes(seed: int, count: int) -> list:
    """(slug, image, placed) of ``count`` random real marks composited onto the real eval photos (not hand-picked
    cases): logos 48-220 px wide, any rotation, perspective tilt up to 0.3, random colour, blur, noise, JPEG."""
    rng = np.random.default_rng(seed)
    photos = sorted(shared("photos/eval").glob("*.jpg"))
    scenes = []
    for i in range(count):
        slug = MARKS[i % len(MARKS)]
        width = float(np.exp(rng.uniform(np.log(48), np.log(220))))
        image, placed = place_mark(load_rgb(photos[i % len(photos)]), icon_svg(slug), width, rng,
                                   tilt=rng.uniform(0, 0.3))
        scenes.append((slug, degrade(image, rng), placed))
    return scenes


@pytest.fixture(scope="session")
def random_scenes():
    """A fixed-seed random set of scenes (``make_scenes``)."""
    return make_scenes(SEED, SCENES)


def test_recall_on_random_scenes(logo_detector, random_scenes):
    images = [image for _, image, _ in random_scenes]
    found_per_image = logo_detector.detect(images, start_index=7)
    hits = 0
    for i, ((slug, image, placed), regions) in enumerate(zip(random_scenes, found_per_image)):
        for r in regions:
            assert r.index == 7 + i
            assert r.kind == LOGO and r.polygon is not None and r.label in {f"{m}.svg" for m in MARKS}
            assert logo_detector.threshold <= r.score <= 1
        mine = [r for r in regions if r.label == f"{slug}.svg"]
        mask = build_mask(mine, *image.shape[:2], pad=2.0)
        if coverage(mask, placed.truth) >= 0.95:
            hits += 1
            assert mask.sum() < 1.4 * box_area(placed) + 400  # the polygon is the mark's box, not the photo
    assert hits / len(random_scenes) >= RECALL_FLOOR


def test_whitened_templates_rank_the_true_pose_first(logo_detector):
    """The template stage alone (the frame's whitened colours correlated with each reference's templates) ranks a
    pose near the mark among its five strongest distinct proposals in at least 23 of 24 random scenes (measured:
    24, all of them first; the edge-map templates it replaced: 19)."""
    from detectors.logos import propose

    near_top = 0
    for slug, image, placed in make_scenes(5, 24):
        ref = next(r for r in logo_detector.references if r.name == f"{slug}.svg")
        ranked = logo_detector._distinct(ref, propose(image, [ref])[0])
        near_top += any(pose_near(H, ref, placed) for H in ranked[:5])
    assert near_top >= 23


def test_no_detection_on_logo_free_photos(logo_detector):
    rng = np.random.default_rng(3)
    images = [degrade(load_rgb(p), rng) for p in sorted(shared("photos/eval").glob("*.jpg"))]
    assert [r for regions in logo_detector.detect(images) for r in regions] == []


def test_keypoints_give_a_pose_near_the_truth(logo_detector):
    """The SIFT stage alone (frame keypoints matched to every reference at once, RANSAC similarity) proposes a pose
    near a large rotated mark on a real photo, and verification confirms it there."""
    from detectors.logos import ColourPyramid

    rng = np.random.default_rng(8)
    image, placed = place_mark(eval_photo("ColdRipple"), icon_svg("dropbox"), 200, rng, angle=100, tilt=0.1)
    image = degrade(image, rng, blur=0.8, noise=2, quality=80)
    index = [r.name for r in logo_detector.references].index("dropbox.svg")
    ref = logo_detector.references[index]
    w, h = ref.size
    poses = logo_detector.keypoint_index.poses(image)[index]
    centres = [(H @ [w / 2, h / 2, 1.0])[:2] / (H @ [w / 2, h / 2, 1.0])[2] for H in poses]
    near = [H for H, c in zip(poses, centres) if np.linalg.norm(c - placed.quad.mean(axis=0)) < 20]
    assert near
    regions = logo_detector._confirmed(ColourPyramid(image), ref, [], near)
    assert coverage(build_mask(regions, *image.shape[:2], pad=2.0), placed.truth) >= 0.95


def test_png_reference_and_model_id(tmp_path, logo_dir, logo_detector):
    from detectors.logos import LogoDetector

    alpha = render_alpha(icon_svg("mailbox"), 300)
    rgba = np.zeros(alpha.shape + (4,), np.uint8)
    rgba[..., 2] = 200
    rgba[..., 3] = (alpha * 255).astype(np.uint8)
    Image.fromarray(rgba).save(tmp_path / "mailbox.png")
    det = LogoDetector(Settings(logos=str(tmp_path)))
    assert det.model_id != logo_detector.model_id
    assert det.model_id == LogoDetector(Settings(logos=str(tmp_path))).model_id  # a hash of the references
    rng = np.random.default_rng(4)
    image, placed = place_mark(eval_photo("Kite"), icon_svg("mailbox"), 100, rng, angle=45, tilt=0.15)
    regions = det.detect([image])[0]
    assert [r.label for r in regions] == ["mailbox.png"]
    assert coverage(build_mask(regions, *image.shape[:2], pad=2.0), placed.truth) >= 0.95


def test_bad_reference_folders(tmp_path):
    from detectors.logos import LogoDetector

    with pytest.raises(InputError, match="no PNG, JPEG or SVG"):
        LogoDetector(Settings(logos=str(tmp_path)))
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(InputError, match="broken.png"):
        LogoDetector(Settings(logos=str(tmp_path)))
    with pytest.raises(InputError, match="--logos"):
        LogoDetector(Settings())


def test_logos_option_adds_the_detector():
    assert Settings(logos="x").detectors_for(False) == ("faces", "logos")
    assert "logos" in Settings(logos="x").detectors_for(True)
    assert Settings(logos="x", detect=("faces",)).detectors_for(False) == ("faces",)
    assert "logos" not in Settings().detectors_for(False)


def test_cli_removes_logo_end_to_end(tmp_path, logo_dir, cli_runner):
    """``redact images --logos DIR --style box``: the mark's pixels are filled, the rest of the photo kept."""
    from redact.cli import main

    rng = np.random.default_rng(6)
    image, placed = place_mark(eval_photo("Path"), icon_svg("mailbox"), 110, rng, angle=60, tilt=0.2)
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    Image.fromarray(image).save(src / "photo.png")
    result = cli_runner.invoke(main, ["images", str(src), "-o", str(out), "--logos", str(logo_dir),
                                      "--style", "box", "--logo-threshold", "0.75"])
    assert result.exit_code == 0, result.output
    redacted = np.asarray(Image.open(out / "photo.png").convert("RGB"))
    filled = (redacted == 0).all(axis=2)
    assert coverage(filled, placed.truth) >= 0.95
    assert filled.sum() < 1.4 * box_area(placed) + 400
    assert np.array_equal(redacted[~filled], image[~filled])
    audit = (out / "audit.jsonl").read_text()
    assert '"label": "mailbox.svg"' in audit and '"kind": "logo"' in audit


def hull_svg(slug: str) -> bytes:
    """An SVG of the mark's filled convex hull: a plain blob with the mark's outline and none of its shape."""
    alpha = render_alpha(icon_svg(slug), 512)
    hull = cv2.convexHull(cv2.findNonZero((alpha >= 0.5).astype(np.uint8)))[:, 0]
    points = " ".join(f"{x},{y}" for x, y in hull)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {alpha.shape[1]} {alpha.shape[0]}">'
            f'<polygon points="{points}"/></svg>').encode()


def test_a_plain_blob_of_the_marks_outline_is_not_the_mark(tmp_path):
    """warp is close to its own convex hull (a rounded box with a slit): a rounded box is not reported as warp,
    while warp itself at the same place, size and colour is."""
    from detectors.logos import LogoDetector

    (tmp_path / "warp.svg").write_bytes(icon_svg("warp"))
    det = LogoDetector(Settings(logos=str(tmp_path)))
    photo = eval_photo("Grey")
    for svg, expected in ((hull_svg("warp"), False), (icon_svg("warp"), True)):
        rng = np.random.default_rng(12)
        image, placed = place_mark(photo, svg, 90, rng, angle=20, colour=(230, 120, 20))
        image = degrade(image, rng, blur=0.6, noise=2, quality=85)
        regions = det.detect_one(image)
        found = coverage(build_mask(regions, *image.shape[:2], pad=2.0), placed.truth) >= 0.95
        assert found == expected, (expected, [(r.label, r.score) for r in regions])


def test_small_blurred_thin_marks_are_found(tmp_path):
    """Thin marks (rings, arcs) 34-44 px wide under blur 1.2 and JPEG: the check's template is blurred like the
    capture (with the sharp template alone, 1 of these 6 is found)."""
    from detectors.logos import LogoDetector

    marks = ("freshrss", "tailscale")
    for slug in marks:
        (tmp_path / f"{slug}.svg").write_bytes(icon_svg(slug))
    det = LogoDetector(Settings(logos=str(tmp_path)))
    rng = np.random.default_rng(21)
    hits = 0
    for i, name in enumerate(("Kite", "Path", "Volna", "ColdRipple", "Grey", "EveningGlow")):
        slug = marks[i % 2]
        image, placed = place_mark(eval_photo(name), icon_svg(slug), 34 + 2 * i, rng, tilt=0.1)
        image = degrade(image, rng, blur=1.2, noise=3, quality=70)
        mine = [r for r in det.detect_one(image) if r.label == f"{slug}.svg"]
        hits += coverage(build_mask(mine, *image.shape[:2], pad=2.0), placed.truth) >= 0.95
    assert hits >= 4


def test_colour_regions_find_a_large_turned_tilted_mark_on_texture(tmp_path):
    """A large one-colour mark on strong texture (a wooden deck), turned halfway between two template rotations and
    tilted: the colour-region stage alone proposes a pose that verification confirms, on four random placements,
    and the whole detector finds the mark each time. (Without this stage the whitened templates and keypoints find
    3 of these 4 and 7 of 12 such placements; the edge-map templates before them found 1 of the 4.)"""
    from detectors.logos import ColourPyramid, LogoDetector

    for slug in ("infuse", "mailbox"):
        (tmp_path / f"{slug}.svg").write_bytes(icon_svg(slug))
    detector = LogoDetector(Settings(logos=str(tmp_path)))
    index = [r.name for r in detector.references].index("infuse.svg")
    ref = detector.references[index]
    for seed in range(4):
        rng = np.random.default_rng(seed)
        image, placed = place_mark(eval_photo("BytheWater"), icon_svg("infuse"), 130, rng, angle=45, tilt=0.3)
        image = degrade(image, rng, blur=0.8, noise=2, quality=80)
        poses = detector.region_index.poses(image)[index]
        alone = detector._confirmed(ColourPyramid(image), ref, [], (), poses)
        assert coverage(build_mask(alone, *image.shape[:2], pad=2.0), placed.truth) >= 0.95, seed
        found = [r for r in detector.detect_one(image) if r.label == "infuse.svg"]
        assert coverage(build_mask(found, *image.shape[:2], pad=2.0), placed.truth) >= 0.95, seed


def test_a_proposal_turned_to_a_look_alike_pose_is_turned_back(tmp_path):
    """infuse (three strokes) looks like itself turned by about 120 degrees, behance ("Be") under no turn. A 45 px
    infuse proposed at a look-alike pose (at template size the two are one shape; its fine detail scores 0.84
    there, under the threshold) is searched at its self-similar turns, both ways, and verification then confirms
    the true pose."""
    from detectors.logos import ColourPyramid, LogoDetector

    for slug in ("infuse", "behance"):
        (tmp_path / f"{slug}.svg").write_bytes(icon_svg(slug))
    detector = LogoDetector(Settings(logos=str(tmp_path)))
    behance, infuse = detector.references  # sorted by file name

    def degrees(A):
        return float(np.degrees(np.arctan2(A[1, 0], A[0, 0])))

    assert behance.turns == ()
    turn = next(A for A in infuse.turns if abs(abs(degrees(A)) - 120) <= 15)
    rng = np.random.default_rng(5)
    image, placed = place_mark(eval_photo("Kite"), icon_svg("infuse"), 45, rng, angle=150)
    image = degrade(image, rng, blur=0.8, noise=2, quality=80)
    w, h = infuse.size
    truth = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), placed.quad).astype(float)
    pyr = ColourPyramid(image)
    for look_alike in (truth @ turn, truth @ np.linalg.inv(turn)):
        assert abs((degrees(look_alike) - degrees(truth) + 180) % 360 - 180) > 90
        _, searched = detector._search(pyr, infuse, look_alike, detector._quick(pyr, infuse, look_alike) or 0.0)
        assert abs((degrees(searched) - degrees(truth) + 180) % 360 - 180) < 25
        found = detector._confirmed(pyr, infuse, [(1.0, look_alike)])
        assert coverage(build_mask(found, *image.shape[:2], pad=2.0), placed.truth) >= 0.95


def test_plain_and_convex_marks(tmp_path):
    """spectrum (a thick arc) is close to its own convex hull: curved bands (fish, arches) are everywhere, so it
    must score PLAIN_EXTRA above the threshold; it is found where it is and nowhere on the logo-free eval photos.
    bandcamp (a parallelogram) is convex: it can never fit better than its hull, so the job warns that it will not
    be found."""
    from detectors.logos import CONVEX, PLAIN, LogoDetector

    for slug in ("spectrum", "bandcamp"):
        (tmp_path / f"{slug}.svg").write_bytes(icon_svg(slug))
    detector = LogoDetector(Settings(logos=str(tmp_path)))
    bandcamp, spectrum = detector.references  # sorted by file name
    assert bandcamp.plainness >= CONVEX and PLAIN <= spectrum.plainness < CONVEX
    assert len(detector.warnings) == 1 and "bandcamp.svg" in detector.warnings[0]
    rng = np.random.default_rng(2)
    for name in ("Kite", "Path", "Grey"):
        image, placed = place_mark(eval_photo(name), icon_svg("spectrum"), 110, rng, tilt=0.1)
        image = degrade(image, rng, blur=0.8, noise=2, quality=80)
        found = [r for r in detector.detect_one(image) if r.label == "spectrum.svg"]
        assert coverage(build_mask(found, *image.shape[:2], pad=2.0), placed.truth) >= 0.95, name
    for path in sorted(shared("photos/eval").glob("*.jpg")):
        image = degrade(load_rgb(path), rng)
        assert detector.detect_one(image) == [], path.name


def test_detailed_marks_may_score_below_the_threshold(tmp_path):
    """keybase (a key) and laravel (thin strokes) are far from their own convex hulls: ordinary objects do not come
    close to them, so they may score DETAILED_DISCOUNT below the threshold. Blurred, compressed and on clutter they
    score between that and the threshold at their true pose: found, and still nothing on the logo-free eval
    photos."""
    from detectors.logos import DETAILED, DETAILED_DISCOUNT, LogoDetector

    for slug in ("keybase", "laravel"):
        (tmp_path / f"{slug}.svg").write_bytes(icon_svg(slug))
    detector = LogoDetector(Settings(logos=str(tmp_path)))
    assert all(r.plainness < DETAILED for r in detector.references)
    assert all(detector.required(r) == detector.threshold - DETAILED_DISCOUNT for r in detector.references)
    for slug, name, width in (("keybase", "FallenLeaf", 64), ("keybase", "Path", 64), ("laravel", "Volna", 52),
                              ("laravel", "ColdRipple", 64)):
        rng = np.random.default_rng(3)
        image, placed = place_mark(eval_photo(name), icon_svg(slug), width, rng, angle=35, tilt=0.2)
        image = degrade(image, rng, blur=1.0, noise=3, quality=60)
        found = [r for r in detector.detect_one(image) if r.label == f"{slug}.svg"]
        assert coverage(build_mask(found, *image.shape[:2], pad=2.0), placed.truth) >= 0.95, (slug, name)
        assert max(r.score for r in found) < detector.threshold, (slug, name)  # found thanks to the discount
    rng = np.random.default_rng(0)
    for path in sorted(shared("photos/eval").glob("*.jpg")):
        assert detector.detect_one(degrade(load_rgb(path), rng)) == [], path.name


def test_tiny_and_thin_images_give_no_logos_and_no_error(logo_detector):
    """Images smaller than any logo looked for, or one pixel high, pass through every stage without an error."""
    rng = np.random.default_rng(0)
    for shape in ((1, 1, 3), (3, 5, 3), (20, 20, 3), (49, 49, 3), (1, 400, 3), (400, 2, 3)):
        image = (rng.random(shape) * 255).astype(np.uint8)
        assert logo_detector.detect([image]) == [[]], shape


def test_a_detection_smaller_than_the_smallest_logo_looked_for_is_dropped(logo_detector):
    """Alignment can shrink a pose onto a speck of clutter (19 px boxes matched a terminal icon at 0.91 on logo-free
    photos). An 18 px mark proposed 1.3x too large (over 0.8 x MIN_LOGO) is aligned down to 18 px and dropped; the
    same mark at 40 px is found."""
    from detectors.logos import ColourPyramid

    index = [r.name for r in logo_detector.references].index("mailbox.svg")
    ref = logo_detector.references[index]
    w, h = ref.size
    centre = np.array([[1, 0, w / 2], [0, 1, h / 2], [0, 0, 1.0]])
    grown = centre @ np.diag([1.3, 1.3, 1.0]) @ np.linalg.inv(centre)  # the proposal: 1.3x too large
    for width, expected in ((18, False), (40, True)):
        rng = np.random.default_rng(1)
        image, placed = place_mark(eval_photo("Kite"), icon_svg("mailbox"), width, rng, angle=0)
        truth = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), placed.quad).astype(float)
        found = logo_detector._confirmed(ColourPyramid(image), ref, [], [truth @ grown])
        assert bool(found) == expected, width


def test_a_bad_reference_stops_the_job_before_any_file(tmp_path, cli_runner):
    """Reference logos are configuration: one that cannot be read stops the job at the start with one line
    naming it (exit 2) and no file is written, instead of every file failing on it; a mark the detector cannot
    find is warned about once, at the start. A job whose --detect leaves the logos out does not read them."""
    from redact.cli import main

    src, logos = tmp_path / "in", tmp_path / "logos"
    src.mkdir(), logos.mkdir()
    for name in ("Kite", "Path"):
        Image.fromarray(eval_photo(name)).save(src / f"{name}.png")
    (logos / "bandcamp.svg").write_bytes(icon_svg("bandcamp"))
    (logos / "broken.png").write_bytes(b"not a png at all")
    out = tmp_path / "out"
    result = cli_runner.invoke(main, ["images", str(src), "-o", str(out), "--logos", str(logos), "--style", "box"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert len(result.output.strip().splitlines()) == 1 and "logo broken.png" in result.output
    assert not list(out.glob("*.png"))
    (logos / "broken.png").unlink()
    result = cli_runner.invoke(main, ["images", str(src), "-o", str(out), "--logos", str(logos), "--style", "box"])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.output.count("bandcamp.svg is a plain convex shape") == 1
    assert sorted(p.name for p in out.glob("*.png")) == ["Kite.png", "Path.png"]
    (logos / "broken.png").write_bytes(b"not a png at all")  # logos not asked for: the references are not read
    result = cli_runner.invoke(main, ["images", str(src), "-o", str(out), "--logos", str(logos), "--style", "box",
                                      "--detect", "faces"])
    assert result.exit_code == ExitCode.OK and "broken.png" not in result.output, result.output
