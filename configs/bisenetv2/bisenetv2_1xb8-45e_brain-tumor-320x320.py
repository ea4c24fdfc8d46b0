# mmseg's BiSeNetV2 trained on the brain-tumor export with EfficientMTNet's
# recipe (efficient_mtnet_1xb8-45e_brain-tumor-320x320.py), as
# configs/fast_scnn/fast_scnn_1xb8-45e_brain-tumor-320x320.py: same data,
# schedule, optimizer, EMA, seed and losses; segmentation only, best
# checkpoint by tumor Dice; BN; from scratch (mmseg trains it from scratch
# too). Its four FCN auxiliary heads share the recipe's auxiliary weight
# (0.1 each, 0.4 in all).
_base_ = [
    'mmseg::_base_/models/bisenetv2.py',
    '../_base_/segmentation_peer_320x320.py'
]
norm_cfg = _base_.peer_norm_cfg
aux_loss = dict(
    type='CrossEntropyLoss',
    use_sigmoid=False,
    loss_weight=_base_.peer_aux_loss_total / 4)
model = dict(
    data_preprocessor=_base_.peer_data_preprocessor,
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(
        norm_cfg=norm_cfg,
        num_classes=2,
        loss_decode=_base_.peer_decode_losses),
    auxiliary_head=[
        dict(head, norm_cfg=norm_cfg, num_classes=2, loss_decode=aux_loss)
        for head in _base_.model.auxiliary_head
    ])
