"""Parameters and multiply-adds of a (multi-task) segmentor.

Counting convention: mmengine's counter (fvcore's) reports one fused
multiply-add as one "FLOP"; FLOPs proper are twice the figure printed as
"multiply-adds". The whole ``_forward`` (tensor mode) is counted: for
``MultiTaskEncoderDecoder`` both branches, NMF matrix products included.
Auxiliary heads run only in training and are excluded from the inference
figures.

Example:
    python tools/analysis_tools/get_flops.py configs/efficient_mtnet_640.py \
        --shape 640 640
"""
import argparse
import logging

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

GROUPS = (('backbone', 'backbone'), ('neck', 'neck'),
          ('segmentation branch', 'decode_head'),
          ('classification branch', 'cls_head'))


def count(cfg, shape):
    """Return a dict of parameter and multiply-add counts."""
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    model.eval()
    n_total = sum(p.numel() for p in model.parameters())
    aux = getattr(model, 'auxiliary_head', None)
    n_aux = sum(p.numel() for p in aux.parameters()) if aux else 0
    if aux is not None:
        del model.auxiliary_head
    inputs = torch.randn(1, 3, *shape)
    analyzer = FlopAnalyzer(model, inputs).unsupported_ops_warnings(
        False).uncalled_modules_warnings(False)
    by_module = analyzer.by_module()
    out = dict(
        params_total=n_total,
        params_inference=n_total - n_aux,
        params_aux=n_aux,
        macs=analyzer.total(),
        unsupported=dict(analyzer.unsupported_ops()),
        groups={},
        params_groups={})
    for label, attr in GROUPS:
        if hasattr(model, attr):
            out['groups'][label] = by_module.get(attr, 0)
            out['params_groups'][label] = sum(
                p.numel() for p in getattr(model, attr).parameters())
    # Functional resizes (F.interpolate) are attributed to the root by the
    # tracer rather than to the module that calls them.
    out['groups']['other (functional resizes)'] = out['macs'] - sum(
        out['groups'].values())
    out['params_groups']['other (functional resizes)'] = 0
    return out


def parse_args():
    p = argparse.ArgumentParser(description='Parameters and multiply-adds')
    p.add_argument('config')
    p.add_argument('--shape', type=int, nargs=2, default=[640, 640],
                   metavar=('H', 'W'))
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def main():
    args = parse_args()
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    import mtnet_plugin  # noqa: F401
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    r = count(cfg, args.shape)
    h, w = args.shape
    print(f'Input shape: 1x3x{h}x{w}')
    print(f'Parameters (inference, auxiliary heads dropped): '
          f'{r["params_inference"] / 1e6:.3f} M')
    print(f'Parameters (training, with auxiliary heads):    '
          f'{r["params_total"] / 1e6:.3f} M')
    print(f'Multiply-adds (whole forward):                   '
          f'{r["macs"] / 1e9:.3f} G  (= {2 * r["macs"] / 1e9:.3f} GFLOPs)')
    print('Per module group:')
    for label in r['groups']:
        print(f'  {label:<22} {r["groups"][label] / 1e9:7.3f} G MACs  '
              f'{r["params_groups"][label] / 1e6:7.3f} M params')
    if r['unsupported']:
        print('Ops the counter skipped (cost not included):',
              ', '.join(f'{k} x{v}' for k, v in r['unsupported'].items()))
    print('Convention: mmengine counts 1 multiply-add as 1 "FLOP"; FLOPs '
          'proper are twice the multiply-adds.')


if __name__ == '__main__':
    main()
