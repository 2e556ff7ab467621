"""A scanned page's skew: measured on generated scans of known skew, taken out, and regions carried back."""
from __future__ import annotations

import numpy as np
import pytest

from detectors.deskew import MIN_SKEW, region_back, skew_angle, upright
from redact.core.images import grey
from redact.core.regions import PERSON, Region, build_mask


@pytest.mark.parametrize("seed", [21, 26, 28])
def test_the_skew_of_a_scan_is_measured(seed):
    """Pages of the second generator, scanned with a known skew (a boxed form, a memo, a receipt)."""
    from benchmarks.pagegen_b import generate_page_b

    page = generate_page_b(np.random.default_rng(seed))
    assert abs(page.angle) > 0.5
    assert abs(skew_angle(grey(page.image)) - page.angle) < 0.1


def test_a_region_found_upright_covers_the_skewed_words_ink():
    """Every ink pixel of a skewed page's words, turned upright and boxed there, is inside the region carried
    back; the region is a rotated rectangle, no taller than the upright box turned (not its wide axis-aligned
    hull)."""
    from benchmarks.pagegen_b import generate_page_b

    page = generate_page_b(np.random.default_rng(26))
    turned, back = upright(page.image)
    assert back is not None
    fwd = np.vstack([np.linalg.inv(np.vstack([back, [0, 0, 1]]))[:2]])
    H, W = page.image.shape[:2]
    for k in range(len(page.items)):
        ys, xs = np.nonzero(page.item_mask(k))
        pts = np.stack([xs, ys, np.ones_like(xs)], 1) @ fwd.T  # the item's ink on the upright page
        box = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
        region = region_back(Region(PERSON, box), back, W, H)
        mask = build_mask([region], H, W)
        assert mask[page.item_mask(k)].all()
        assert mask.sum() < 1.3 * (box[2] - box[0] + 2) * (box[3] - box[1] + 2)


def test_an_upright_page_is_read_as_it_is():
    blank = np.full((400, 300), 235, np.uint8)
    blank[100:104, 20:280] = 0
    image, back = upright(blank)
    assert back is None and image is blank
    assert MIN_SKEW > abs(skew_angle(blank))
