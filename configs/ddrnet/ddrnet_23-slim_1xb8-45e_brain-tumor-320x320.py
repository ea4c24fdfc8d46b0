# mmseg's DDRNet-23-slim trained on the brain-tumor export with EfficientMTNet's
# recipe (efficient_mtnet_1xb8-45e_brain-tumor-320x320.py), as
# configs/fast_scnn/fast_scnn_1xb8-45e_brain-tumor-320x320.py: same data,
# schedule, optimizer, EMA, seed and losses; segmentation only, best
# checkpoint by tumor Dice; BN. Where it differs from mmseg's
# ddrnet_23-slim_in1k-pre_2xb6-120k_cityscapes-1024x1024.py:
# - mmseg has no model base for DDRNet, so the model is written out here
#   with that config's values (channels 32, PPM 128, head 64, no dropout);
# - from scratch, like every model of the recipe (mmseg starts from its
#   ImageNet weights, which cannot be downloaded here);
# - DDRHead takes one loss per output, so the recipe's focal + tumor Dice on
#   the main logits are one LossSum; its spatial-branch logits take the
#   recipe's auxiliary cross-entropy (0.4, also mmseg's weight).
_base_ = ['../_base_/segmentation_peer_320x320.py']
norm_cfg = _base_.peer_norm_cfg
model = dict(
    type='EncoderDecoder',
    data_preprocessor=_base_.peer_data_preprocessor,
    backbone=dict(
        type='DDRNet',
        in_channels=3,
        channels=32,
        ppm_channels=128,
        norm_cfg=norm_cfg,
        align_corners=False),
    decode_head=dict(
        type='DDRHead',
        in_channels=32 * 4,
        channels=64,
        dropout_ratio=0.,
        num_classes=2,
        align_corners=False,
        norm_cfg=norm_cfg,
        loss_decode=[
            dict(
                type='LossSum',
                losses=_base_.peer_decode_losses,
                loss_name='loss_context'),
            dict(
                type='CrossEntropyLoss',
                use_sigmoid=False,
                loss_weight=_base_.peer_aux_loss_total),
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
