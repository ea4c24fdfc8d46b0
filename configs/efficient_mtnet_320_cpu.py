# A CPU-practical schedule for the real data: 320x320 input (a quarter of the
# pixels of the 640 config), 30 epochs, AdamW 1e-3 with warm-up and cosine
# decay, validation every 2 epochs. Its cost on 2 CPU cores is in the README.
_base_ = ['./efficient_mtnet_640.py']
crop_size = (320, 320)
train_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(type='LoadTumorAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0, seg_pad_val=0),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=24,
        contrast_range=(0.8, 1.2),
        saturation_range=(1.0, 1.0),
        hue_delta=1),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadTumorAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-3))
max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs),
]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1))
custom_hooks = []
