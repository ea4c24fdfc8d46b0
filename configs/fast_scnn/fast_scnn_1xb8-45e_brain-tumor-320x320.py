# mmseg's Fast-SCNN trained on the brain-tumor export with EfficientMTNet's
# recipe (efficient_mtnet_1xb8-45e_brain-tumor-320x320.py): the same data
# pipeline at 320x320, schedule, optimizer, EMA, seed and losses. It
# segments only, so it differs where a segmentation-only model must:
# - no classification head, hence no classification metrics, and the best
#   checkpoint is kept by tumor Dice (the recipe's rule is the mean of tumor
#   Dice and image accuracy);
# - BN (momentum 0.1) instead of mmseg's SyncBN (momentum 0.01): one
#   process and EfficientMTNet's normalization;
# - mmseg's Fast-SCNN heads (depthwise-separable FCN decode head, FCN
#   auxiliary heads on its two other outputs) with EfficientMTNet's losses
#   and weights: focal 0.3 + tumor Dice 0.3 on the decode head, cross-
#   entropy 0.2 on each auxiliary head.
_base_ = [
    'mmseg::_base_/models/fast_scnn.py',
    '../_base_/datasets/brain_tumor_coco_320x320.py',
    '../_base_/schedules/schedule_45e.py', '../_base_/default_runtime.py'
]
norm_cfg = dict(type='BN', requires_grad=True, momentum=0.1)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
aux_loss = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.2)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(norm_cfg=norm_cfg),
    decode_head=dict(
        norm_cfg=norm_cfg,
        num_classes=2,
        loss_decode=[
            dict(type='SoftmaxFocalLoss', gamma=2.0, loss_weight=0.3),
            dict(type='TumorDiceLoss', class_indices=(1, ), loss_weight=0.3),
        ]),
    auxiliary_head=[
        dict(
            _base_.model.auxiliary_head[0],
            norm_cfg=norm_cfg,
            num_classes=2,
            loss_decode=aux_loss),
        dict(
            _base_.model.auxiliary_head[1],
            norm_cfg=norm_cfg,
            num_classes=2,
            loss_decode=aux_loss),
    ])
val_evaluator = [dict(type='TumorIoUMetric', iou_metrics=['mIoU', 'mDice'])]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='tumor_Dice'))
tta_model = dict(type='SegTTAModel')
