# Progressive resizing: the 45-epoch 320x320 weights fine-tuned for 8 epochs
# at the images' own 640x640 (no resize), where one 1/8 cell of the fused map
# is 8x8 pixels instead of 16x16; inference at 640x640. Same network, losses
# (with the training-only extent head) and augmentation as the 320x320
# recipe; AdamW at a tenth of its peak rate, 50 iterations of warm-up, then
# cosine to 0; EMA; best checkpoint by the mean of tumor Dice and accuracy.
_base_ = ['./efficient_mtnet_1xb8-boxaux-45e_brain-tumor-320x320.py']
load_from = 'checkpoints/efficient_mtnet_320_brain_tumor-7306a39a.pth'
crop_size = (640, 640)
train_pipeline = [
    dict(
        type='CachedCompose',
        transforms=[
            dict(type='LoadMRIImageFromFile'),
            dict(type='LoadTumorAnnotations'),
            dict(type='Resize', scale=crop_size, keep_ratio=False),
        ]),
    # the base's flip, rotation, intensity and packing
    *_base_.train_pipeline[1:],
]
test_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadTumorAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
tta_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=crop_size, keep_ratio=False)],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadTumorAnnotations')],
            [dict(type='PackMultiTaskInputs')],
        ])
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(lr=2e-4))
max_epochs = 8
train_cfg = dict(
    max_epochs=max_epochs, val_interval=2, dynamic_intervals=None)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=False,
        begin=0,
        end=50),
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
