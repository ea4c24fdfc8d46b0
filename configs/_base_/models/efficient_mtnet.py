# EfficientMTNet: SE learning-to-downsample + SE inverted-residual stages
# -> FPN-style fusion -> LightHam decode head (+ progressive DS upsampling),
# LightHam classification head on the deepest map, FCN auxiliary heads.
# Loss weights: segmentation 0.6 (focal 0.3 + tumor Dice 0.3),
# classification 0.4, auxiliary 0.4 (0.2 per head).
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
# NMF of the Hamburgers: rank 16; mmseg's 6 steps in training, 2 in
# inference (README, "NMF steps at inference": 7 -> 2 loses 0.08 valid
# tumor Dice and no image of the shipped weights, and runs faster).
ham_kwargs = dict(MD_S=1, MD_R=16, train_steps=6, eval_steps=2)
aux_head = dict(
    type='FCNAuxHead',
    channels=32,
    num_convs=1,
    concat_input=False,
    dropout_ratio=0.1,
    num_classes=2,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.2))
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='EfficientMTNetBackbone',
        in_channels=3,
        downsample_dw_channels=(32, 48),
        downsample_channels=64,
        stage_channels=(64, 96, 128),
        num_blocks=(3, 3, 3),
        strides=(2, 2, 1),
        expand_ratio=6,
        se_ratio=0.25,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg),
    # outputs: 0 1/8 (64), 1 1/16 (64), 2 1/32 (96), 3 1/32 (128), 4 fused 1/8
    neck=dict(
        type='MultiScaleFusion',
        in_channels=[64, 64, 96, 128],
        lateral_channels=32,
        out_channels=128,
        keep_inputs=True,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='ProgressiveLightHamHead',
        in_channels=[128],
        in_index=[4],
        ham_channels=64,
        ham_kwargs=ham_kwargs,
        # align to 32 channels, one x2 DS-conv stage (1/8 -> 1/4, 16 ch);
        # mmseg resizes the 1/4 logits to the input size.
        channels=32,
        up_channels=(16, ),
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=[
            dict(type='SoftmaxFocalLoss', gamma=2.0, loss_weight=0.3),
            dict(type='TumorDiceLoss', class_indices=(1, ), loss_weight=0.3),
        ]),
    # FCN heads on stages 1 (64 ch, 1/16) and 2 (96 ch, 1/32), 0.2 each.
    auxiliary_head=[
        dict(aux_head, in_channels=64, in_index=1),
        dict(aux_head, in_channels=96, in_index=2),
    ],
    cls_head=dict(
        type='HamClsHead',
        num_classes=2,
        in_channels=128,
        in_index=3,
        ham_channels=128,
        ham_kwargs=ham_kwargs,
        mid_channels=(64, ),
        dropout_rate=0.2,
        norm_cfg=norm_cfg,
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
