# The MSD-layout recipe on small synthetic labelled volumes, sized to train
# and test on 2 CPU cores in a few minutes at 128x128:
#   python tools/dataset_converters/make_synthetic_msd.py data/synthetic_msd
#   python tools/train.py THIS_CONFIG
#   python tools/test.py THIS_CONFIG work_dirs/.../epoch_10.pth
# (four modalities, three of them the channels; the test split is
# imagesTs/ + labelsTs/). A larger LR and a short schedule.
_base_ = ['./efficient_mtnet_1xb8-90e_msd-brain-320x320.py']
data_root = 'data/synthetic_msd'
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadVolumeSlice'),
    dict(type='LoadVolumeSliceAnnotation'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadVolumeSlice'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadVolumeSliceAnnotation'),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
max_epochs = 10
optim_wrapper = dict(optimizer=dict(lr=4e-3))
train_cfg = dict(max_epochs=max_epochs, val_interval=5, dynamic_intervals=None)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs),
]
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=5, max_keep_ckpts=1))
custom_hooks = []  # no EMA on a 10-epoch schedule
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(vis_backends=vis_backends)
