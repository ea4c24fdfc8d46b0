# AdamW 1e-4, 100 epochs, validation every epoch; the LR is halved when the
# monitored metric stalls, training stops after 15 validations without
# improvement; best (by the monitored metric) and periodic checkpoints.
monitor = 'tumor_Dice'  # one key watched by plateau LR, early stop, best ckpt
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='ReduceOnPlateauLR',
        monitor=monitor,
        rule='greater',
        factor=0.5,
        patience=5,
        min_value=1e-6,
        by_epoch=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=True,
        interval=10,
        max_keep_ckpts=3,
        save_best=monitor,
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
custom_hooks = [
    dict(
        type='ResumableEarlyStoppingHook',
        monitor=monitor,
        rule='greater',
        patience=15),
]
