# `make demo`: EfficientMTNet on the synthetic MRI data (256x256), sized to
# train and test on 2 CPU cores in a few minutes. Same model as the 640
# config; larger LR and a short schedule.
_base_ = [
    '../_base_/models/efficient_mtnet.py',
    '../_base_/datasets/synthetic_mri.py',
    '../_base_/schedules/schedule_100e.py', '../_base_/default_runtime.py'
]
crop_size = (256, 256)
train_dataloader = dict(batch_size=8, num_workers=1)
val_dataloader = dict(num_workers=1)
test_dataloader = dict(num_workers=1)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
train_cfg = dict(max_epochs=12, val_interval=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
         end=12),
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=2, max_keep_ckpts=1))
custom_hooks = []  # no early stopping on a 12-epoch schedule
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(vis_backends=vis_backends)
