# mmseg's own Fast-SCNN (BN), the speed peer of EfficientMTNet's benchmark.
_base_ = ['mmseg::_base_/models/fast_scnn.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(640, 640)),
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(norm_cfg=norm_cfg, num_classes=2),
    auxiliary_head=None)
