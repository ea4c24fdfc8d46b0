# EfficientMTNet's recipe for mmseg's segmentation-only models (configs/<peer>/),
# to be combined with an mmseg model base (mmseg::_base_/models/<peer>.py):
# the 320x320 data pipeline, the 45-epoch schedule with EMA, the runtime,
# and what the peer's model takes from EfficientMTNet (BN, input
# normalization, losses: focal 0.3 + tumor Dice 0.3 on the decode head,
# cross-entropy 0.4 in all over the auxiliary heads). Without a
# classification head a peer has the tumor metrics only, and its best
# checkpoint is kept by tumor Dice. The peer_* names sit beside the mmseg
# model base's own keys without a clash.
_base_ = [
    './datasets/brain_tumor_coco_320x320.py', './schedules/schedule_45e.py',
    './default_runtime.py'
]
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
val_evaluator = [dict(type='TumorIoUMetric', iou_metrics=['mIoU', 'mDice'])]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='tumor_Dice'))
tta_model = dict(type='SegTTAModel')
