# mmseg's Fast-SCNN trained on the brain-tumor export with EfficientMTNet's
# recipe (efficient_mtnet_1xb8-45e_brain-tumor-320x320.py): the same data
# pipeline at 320x320, schedule, optimizer, EMA, seed and losses
# (configs/_base_/segmentation_peer_320x320.py). It segments only, so:
# - no classification head and no classification metrics; the best
#   checkpoint is kept by tumor Dice (the recipe's rule is the mean of tumor
#   Dice and image accuracy);
# - BN (momentum 0.1) instead of mmseg's SyncBN (momentum 0.01): one
#   process, and EfficientMTNet's normalization;
# - mmseg's own heads (depthwise-separable FCN decode head, FCN auxiliary
#   heads on its two other outputs, 0.2 each) with the recipe's losses.
_base_ = [
    'mmseg::_base_/models/fast_scnn.py',
    '../_base_/segmentation_peer_320x320.py'
]
norm_cfg = _base_.peer_norm_cfg
aux_loss = dict(
    type='CrossEntropyLoss',
    use_sigmoid=False,
    loss_weight=_base_.peer_aux_loss_total / 2)
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
