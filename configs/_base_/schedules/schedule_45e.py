# 45 epochs, AdamW lr 2e-3 (weight decay 0.01), one epoch of linear warm-up
# then cosine to 0, both stepped per iteration; validation every 4 epochs,
# every 2 in the last 10; EMA weights (validation, best checkpoint and the
# published file use them); the best checkpoint kept by `monitor`.
_base_ = ['./schedule_100e.py']
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.01))
max_epochs = 45
train_cfg = dict(
    max_epochs=max_epochs,
    val_interval=4,
    dynamic_intervals=[(max_epochs - 10, 2)])
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True),
]
# mean of tumor Dice and image accuracy (MultiTaskScore); a model without
# a classification head sets its own (tumor_Dice)
monitor = 'multi_task/score'
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        interval=2, max_keep_ckpts=1, save_best=monitor, rule='greater'))
custom_hooks = [
    dict(
        type='EMAHook',
        # momentum max(1e-3, 10 / (10 + iter)): an average over roughly the
        # last tenth of the run, never more than ~1000 iterations
        ema_type='MomentumAnnealingEMA',
        momentum=0.001,
        gamma=10,
        update_buffers=True,
        priority=49),
]
randomness = dict(seed=0)
