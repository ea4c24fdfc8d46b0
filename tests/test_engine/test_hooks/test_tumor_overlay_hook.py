import numpy as np

from mtnet_plugin.engine.hooks import draw_overlay


def test_outlines_and_text_are_drawn():
    img = np.zeros((64, 64, 3), np.uint8)
    pred = np.zeros((64, 64), np.uint8)
    pred[10:20, 10:20] = 1
    gt = np.zeros((64, 64), np.uint8)
    gt[40:50, 40:50] = 1
    out = draw_overlay(img, pred, gt, pred_label=1, pred_prob=0.9,
                       gt_label=0)
    assert out is not img and not img.any()
    red = (out[..., 2] == 255) & (out[..., 1] == 0)
    green = (out[..., 1] == 255) & (out[..., 2] == 0)
    assert red[10:20, 10:20].any() and not red[40:50, 40:50].any()
    assert green[40:50, 40:50].any() and not green[10:20, 10:20].any()
    assert (out[:12, :, 1] > 0).any()  # the text line at the top
