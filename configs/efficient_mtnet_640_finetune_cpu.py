# Continuation of the H200 run (configs/efficient_mtnet_640_h200.py), whose
# GPU lease ended after 18 of its 50 epochs (best at 16) with the LR still
# at 7.4e-4:
# fine-tune those weights on CPU at 640x640 for 8 epochs, AdamW from 3e-4
# with cosine decay to 1e-5, validating on valid/ every 2 epochs.
_base_ = ['./efficient_mtnet_640.py']
# The H200 run's best checkpoint (epoch 16), published as
# efficient_mtnet_640_brain_tumor-79f40351.pth by tools/misc/h200_train_bench.sh.
load_from = 'work_dirs/efficient_mtnet_640_h200/efficient_mtnet_640_brain_tumor-79f40351.pth'
train_dataloader = dict(batch_size=8, num_workers=1, persistent_workers=True)
val_dataloader = dict(batch_size=4, num_workers=1)
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=3e-4))
max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs),
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=2, max_keep_ckpts=1))
custom_hooks = []
