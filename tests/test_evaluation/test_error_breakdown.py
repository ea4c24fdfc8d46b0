"""error_breakdown: every error pixel in one kind, ceilings from the sums."""
import numpy as np
import pytest
from mtnet_plugin.evaluation.error_breakdown import (KINDS, dice_of,
                                                     image_errors,
                                                     resolution_ceiling,
                                                     summarize)


def _box(shape, y0, y1, x0, x1):
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    return m


def test_found_lesion_splits_boundary_from_elsewhere():
    gt = _box((20, 20), 2, 8, 2, 8)  # 36 px
    pred = _box((20, 20), 4, 10, 4, 10)  # 36 px, 16 inside
    pred |= _box((20, 20), 15, 17, 15, 18)  # a separate 6 px blob
    e = image_errors(pred, gt)
    assert e['found'] == 1 and e['components'] == 2
    assert e['tp'] == 16
    assert e['fn_boundary'] == 20 and e['fn_missed'] == 0
    assert e['fp_boundary'] == 20 and e['fp_elsewhere'] == 6
    # every error pixel counted once
    assert sum(e[k] for k in KINDS) == (pred ^ gt).sum()
    assert e['box_fill'] == 1.0  # a rectangle fills its box


def test_box_fill_of_a_disc():
    yy, xx = np.mgrid[:101, :101]
    disc = (yy - 50)**2 + (xx - 50)**2 <= 50**2
    e = image_errors(disc, _box((101, 101), 0, 101, 0, 101))
    assert e['box_fill'] == round(disc.sum() / 101**2, 4)  # ~ pi / 4
    assert abs(e['box_fill'] - np.pi / 4) < 0.02
    assert image_errors(disc, np.zeros_like(disc))['box_fill'] is None


def test_a_diagonal_neighbour_is_the_same_component():
    gt = _box((10, 10), 0, 2, 0, 2)
    pred = gt.copy()
    pred[2, 2] = True  # touches (1, 1) only diagonally
    e = image_errors(pred, gt)
    assert e['components'] == 1
    assert e['fp_boundary'] == 1 and e['fp_elsewhere'] == 0


def test_missed_lesion_and_image_without_lesion():
    gt = _box((12, 12), 0, 3, 0, 3)
    pred = _box((12, 12), 8, 10, 8, 10)
    e = image_errors(pred, gt)
    assert e['found'] == 0
    assert e['fn_missed'] == 9 and e['fn_boundary'] == 0
    assert e['fp_elsewhere'] == 4 and e['fp_boundary'] == 0
    empty = image_errors(pred, np.zeros((12, 12), bool))
    assert empty['found'] == -1 and empty['fp_elsewhere'] == 4
    with pytest.raises(ValueError, match='shape'):
        image_errors(pred, gt[:5])


def test_summary_dice_ceilings_and_groups():
    found = image_errors(_box((20, 20), 4, 10, 4, 10),
                         _box((20, 20), 2, 8, 2, 8))  # tp 16, fn 20, fp 20
    missed = image_errors(np.zeros((20, 20), bool),
                          _box((20, 20), 0, 10, 0, 10))  # fn 100
    rows = [dict(found, label=0), dict(missed, label=1)]
    s = summarize(rows, size_edges=(50, ))
    assert s['tumor_Dice'] == round(dice_of(16, 20, 120), 2)
    assert s['missed'] == 1
    assert s['missed_empty'] == 1 and s['multi_component'] == 0
    # a miss that predicts a blob elsewhere is not an empty one
    elsewhere = image_errors(_box((20, 20), 15, 17, 15, 17) |
                             _box((20, 20), 0, 2, 18, 20),
                             _box((20, 20), 0, 10, 0, 10))
    s2 = summarize(rows + [dict(elsewhere, label=1)], size_edges=(50, ))
    assert s2['missed'] == 2 and s2['missed_empty'] == 1
    assert s2['multi_component'] == 1
    assert s['box_fill_median'] == 1.0  # the found prediction is a square
    errors = 140
    assert s['error_share']['fn_missed'] == round(100 * 100 / errors, 2)
    assert sum(s['error_share'].values()) == pytest.approx(100, abs=0.05)
    # the missed lesion counted as found exactly: tp 116, fn 20, fp 20
    assert s['dice_without']['fn_missed'] == round(dice_of(116, 20, 20), 2)
    assert s['dice_without']['fp_boundary'] == round(dice_of(16, 0, 120), 2)
    assert s['by_size']['0-50'] == dict(
        images=1, missed=0, median_image_dice=round(dice_of(16, 20, 20), 2),
        dice=round(dice_of(16, 20, 20), 2),
        error_share=round(100 * 40 / errors, 2))
    assert s['by_size']['>=50']['missed'] == 1
    assert s['by_label']['1']['dice'] == 0.0
    assert dice_of(0, 0, 0) == 100.0


def test_resolution_ceiling():
    box = _box((32, 32), 8, 24, 4, 20)  # 16 x 16, on the 8 x 8 grid
    # at the labels' own size the round trip is exact
    assert resolution_ceiling([box], 32) == 100.0
    # through 8 x 8 (cells of 4 px) the edges survive and bilinear
    # upsampling cuts one pixel off each corner (0.625 * 0.625 < 0.5
    # there): 252 of 256 pixels, Dice = 2 * 252 / (252 + 256)
    assert resolution_ceiling([box], 8) == pytest.approx(
        100 * 2 * 252 / (252 + 256))
    assert resolution_ceiling([box], 8) < resolution_ceiling([box], 16)
