"""tools/analysis_tools/calibrate_temperature.py: the fit recovers a known
temperature, and the calibrated checkpoint carries it to every backend."""
import os.path as osp

import numpy as np
import pytest
import torch

from ..conftest import load_tool


def _tool():
    return load_tool('analysis_tools/calibrate_temperature.py')


def test_fit_recovers_the_overconfidence_factor():
    """Labels drawn from softmax(z) are calibrated for z; logits 3 z are
    overconfident by T = 3, and the fit finds it (within sampling)."""
    tool = _tool()
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (4000, 2))
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    labels = (rng.random(4000) < p[:, 1]).astype(int)
    t = tool.fit_temperature(3 * z, labels)
    assert t == pytest.approx(3.0, rel=0.1)
    before = tool.summary(tool.scaled(3 * z, 1.0), labels)
    after = tool.summary(tool.scaled(3 * z, t), labels)
    assert after['ECE'] < before['ECE'] / 2
    assert after['accuracy'] == before['accuracy']


@pytest.mark.slow
def test_calibrated_checkpoint_on_valid(shipped, real_data, tmp_path):
    """On the real valid/ split with the shipped weights: the fitted T lowers
    the NLL it minimises (ECE may move either way within noise: the shipped
    weights go 0.0042 -> 0.0053 on valid/), the accuracy stays, the new
    file holds T and onnxruntime applies it."""
    tool = _tool()
    out = str(tmp_path / 'cal.pth')
    report = tool.main([shipped[0], shipped[1], '--out', out, '--plot',
                        str(tmp_path / 'rel.png')])
    assert report['images'] == 429
    assert report['after']['NLL'] < report['before']['NLL']
    assert report['after']['ECE'] < 0.01  # the calibration target
    assert report['after']['accuracy'] == report['before']['accuracy']
    (final, ) = [str(p) for p in tmp_path.glob('cal-*.pth')]
    ckpt = torch.load(final, map_location='cpu')
    t = float(ckpt['state_dict']['cls_temperature'])
    assert t == pytest.approx(report['temperature'], abs=1e-4)
    assert ckpt['meta']['calibration']['temperature'] == report['temperature']
    assert ckpt['meta']['config'] == torch.load(
        shipped[1], map_location='cpu')['meta']['config']
    pytest.importorskip('onnxruntime')
    from mtnet_plugin.apis import TumorInferencer
    img = sorted(__import__('glob').glob(osp.join(real_data, 'valid',
                                                  '*.jpg')))[0]
    uncalibrated = TumorInferencer(shipped[0], shipped[1], backend='pytorch')
    uncalibrated.model.cls_temperature.fill_(1.0)
    raw = uncalibrated(img)[0]
    ort = TumorInferencer(shipped[0], final, backend='onnxruntime')(img)[0]
    logp = np.log(raw['class_probs']) / t
    expect = np.exp(logp - logp.max()) / np.exp(logp - logp.max()).sum()
    np.testing.assert_allclose(ort['class_probs'], expect, atol=1e-4)
