"""tools/deployment/pytorch2onnx.py: dynamic export checked against
predict() with onnxruntime."""
import os.path as osp

import pytest
import torch

from ..conftest import REPO, load_tool

pytest.importorskip('onnxruntime')
p2o = load_tool('deployment/pytorch2onnx.py')
DEMO = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-12e_synthetic-256x256.py')


def test_shipped_weights_on_real_images_at_two_sizes(shipped, real_data,
                                                     tmp_path, capsys):
    """onnxruntime vs predict() on valid/ images, network input at the
    config's size and at twice it, from one dynamic export."""
    config, ckpt = shipped
    out = str(tmp_path / 'shipped.onnx')
    p2o.main([config, ckpt, '--out', out, '--images',
              osp.join(real_data, 'valid'), '--num-images', '6'])
    text = capsys.readouterr().out
    lines = [ln for ln in text.splitlines() if 'onnxruntime vs predict' in ln]
    assert len(lines) == 2 and all(ln.endswith('OK') for ln in lines), text
    assert 'input 320x320' in lines[0] and 'input 640x640' in lines[1]
    # the figures behind OK
    import onnx
    onnx.checker.check_model(onnx.load(out))
    model = p2o.init_model(config, ckpt)
    images = sorted(p2o.TumorInferencer.list_images(
        osp.join(real_data, 'valid')))[:3]
    for r in p2o.check_against_predict(model, out, images, [320, 448]):
        assert r['class_mismatch'] == 0 and r['identical'] >= 0.999, r


def test_a_different_model_fails_the_check(tmp_path):
    from mtnet_plugin.apis import export_onnx, init_model
    other = init_model(DEMO)
    torch.manual_seed(1)
    for p in other.parameters():
        p.data.add_(0.1 * torch.randn_like(p))
    out = str(tmp_path / 'other.onnx')
    export_onnx(other, out, (96, 96))
    model = init_model(DEMO)
    images = p2o.synthetic_images(str(tmp_path), 2, size=96)
    with pytest.raises(ValueError, match='other.onnx.*does not match'):
        p2o.check_against_predict(model, out, images, [96])


def test_static_export_checks_one_size(tmp_path, capsys):
    ckpt = str(tmp_path / 'w.pth')
    from mtnet_plugin.apis import init_model
    torch.save(dict(state_dict=init_model(DEMO).state_dict()), ckpt)
    out = str(tmp_path / 'static.onnx')
    p2o.main([DEMO, ckpt, '--out', out, '--static', '--num-images', '2'])
    text = capsys.readouterr().out
    assert 'fixed to 1x3x256x256' in text  # the demo config's input
    assert text.count('onnxruntime vs predict') == 1 and 'OK' in text
