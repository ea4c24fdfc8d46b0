# What mmseg's segmentation-only models take from EfficientMTNet's recipe
# when they train on the brain-tumor export (configs/<peer>/): BN, the
# input normalization (padded to a multiple of 32) and the losses: focal
# 0.3 + tumor Dice 0.3 on the decode head, cross-entropy 0.4 in all over
# the auxiliary heads. The names carry a prefix so that this file sits
# beside an mmseg model base (mmseg::_base_/models/...) without a clash.
peer_norm_cfg = dict(type='BN', requires_grad=True, momentum=0.1)
peer_data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
peer_decode_losses = [
    dict(type='SoftmaxFocalLoss', gamma=2.0, loss_weight=0.3),
    dict(type='TumorDiceLoss', class_indices=(1, ), loss_weight=0.3),
]
peer_aux_loss_total = 0.4
