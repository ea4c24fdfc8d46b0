# EfficientMTNet at 640x640 for one GPU (fp32): batch 16, AdamW lr 1e-3 with
# 100 iterations of warm-up and cosine decay over 50 epochs, validation
# every 2 epochs, no early stopping.
_base_ = ['../efficient_mtnet_640.py']
train_dataloader = dict(batch_size=16, num_workers=12)
val_dataloader = dict(batch_size=8, num_workers=8)
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-3))
max_epochs = 50
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs),
]
default_hooks = dict(checkpoint=dict(interval=20, max_keep_ckpts=1))
custom_hooks = []
