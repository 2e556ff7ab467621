"""Page fills' finishing stages (``inpaint.page_rules``) on generated scanned pages: rules that cross a removed
value are drawn across its hole, nothing is drawn where no rule crosses, and a fill takes its paper's tone.
The fill under the stages is plain cv2.inpaint (Telea), so these tests do not depend on trained weights."""
import cv2
import numpy as np
import pytest

from inpaint.evaluate import RULE_INK
from inpaint.fills import OpenCVFill
from inpaint.rfr_fill import RFRFill
from inpaint.page_rules import continue_rules, match_tone
from inpaint.synthdocs import generate_page
from inpaint.train import box_mask


def _page(seed: int, kind: str):
    page = generate_page(np.random.default_rng(seed), 150, kind=kind, rules=True)
    hole = box_mask([b for it in page.items for b in it.boxes], 0, 0, page.image.shape[:2], pad=2)
    clean = cv2.cvtColor(page.clean, cv2.COLOR_RGB2GRAY)
    rule = hole & (clean.astype(int) < cv2.medianBlur(clean, 31).astype(int) - RULE_INK)
    known = page.image * (~hole)[..., None]
    return known, hole, clean.astype(float), rule


def _telea(known, hole):
    return cv2.inpaint(known, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)


def _grey(image):
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(float)


@pytest.mark.parametrize("seed,kind", [(0, "table"), (1, "form")])
def test_rules_crossing_removed_values_continue_through_their_holes(seed, kind):
    known, hole, clean, rule = _page(seed, kind)
    assert rule.sum() > 1000  # ruled rows / form lines run through the removed values
    telea = _telea(known, hole)
    ruled = continue_rules(known, telea, hole)
    before, after = np.abs(_grey(telea) - clean)[rule].mean(), np.abs(_grey(ruled) - clean)[rule].mean()
    assert before > 80  # Telea alone leaves a gap in every rule
    assert after < 40, (before, after)
    # only hole pixels change, and the paper between the rules stays paper
    assert np.array_equal(ruled[~hole], telea[~hole])
    paper = hole & ~cv2.dilate(rule.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert np.abs(_grey(ruled) - clean)[paper].mean() < np.abs(_grey(telea) - clean)[paper].mean() + 0.5


def test_no_rule_is_drawn_across_a_removed_word_in_running_text():
    known, hole, clean, rule = _page(3, "letter")  # an unruled letter: names and numbers inside sentences
    assert rule.sum() < 100
    telea = _telea(known, hole)
    ruled = continue_rules(known, telea, hole)
    drawn = hole & (np.abs(_grey(ruled) - _grey(telea)) > 30)
    assert drawn.sum() < 50, drawn.sum()


def test_a_fill_takes_the_tone_of_the_paper_around_its_hole():
    known, hole, clean, _ = _page(2, "form")
    telea = _telea(known, hole)
    tinted = np.clip(telea.astype(int) + np.array([-12, 6, 10]) * hole[..., None], 0, 255).astype(np.uint8)
    toned = match_tone(known, tinted, hole)
    assert np.array_equal(toned[~hole], tinted[~hole])
    off = (toned.astype(float) - telea.astype(float))[hole].mean(0)
    assert (np.abs(off) < 2.5).all(), off  # the tinted fill was 12, 6 and 10 levels off per channel


@pytest.mark.parametrize("style", ["telea", "inpaint"])
def test_every_page_fill_is_finished_and_a_photo_fill_is_not(style):
    known, hole, clean, rule = _page(0, "table")
    fill = OpenCVFill("telea") if style == "telea" else RFRFill("cpu")
    ys, xs = np.nonzero(hole)
    window = np.s_[ys.min() - 20:ys.min() + 250, xs.min() - 20:xs.min() + 600]  # ruled rows of names and phones
    known, hole, clean, rule = known[window], hole[window], clean[window], rule[window]
    page, photo = (fill.fill([known], [hole], domain)[0] for domain in ("page", "photo"))
    assert np.abs(_grey(page) - clean)[rule].mean() < 40 < np.abs(_grey(photo) - clean)[rule].mean()


def test_removed_words_leave_no_smear_on_the_paper():
    known, hole, clean, _ = _page(1, "letter")
    telea = _telea(known, hole)
    paper = np.median(clean[hole])
    smear = lambda img: int((hole & (_grey(img) < paper - 20)).sum())  # noqa: E731
    assert smear(telea) > 1000  # Telea draws the ink at each hole's edge into it
    assert smear(match_tone(known, telea, hole)) < 20
