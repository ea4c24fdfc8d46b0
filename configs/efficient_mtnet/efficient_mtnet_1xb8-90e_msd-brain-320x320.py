# EfficientMTNet on labelled MRI volumes in the Medical Segmentation
# Decathlon layout (Task01_BrainTumour, or BraTS laid out the same way),
# read as axial slices at 320x320 (configs/_base_/datasets/msd_brain.py:
# data/msd-brain, or BRAIN_TUMOR_DATA_ROOT=/path/to/Task01_BrainTumour).
# The image class is "tumor present in the slice"; tools/test.py prints the
# slice metrics and the per-volume ones (volume_dice, volume_error_ml, a
# per-case table; --out FILE.json or FILE.csv writes it).
#
# The network is the shipped 2D network's (the weights of the COCO export
# load into it for testing: tools/test.py THIS_CONFIG
# checkpoints/efficient_mtnet_320_brain_tumor-148cff59.pth); no teacher and
# no box-extent head, whose targets assume box labels. 90 epochs, one of
# warm-up then cosine to 0 (AdamW 2e-3), EMA weights; the published
# checkpoint is the last epoch's (EMA), chosen before the run.
_base_ = [
    '../_base_/models/efficient_mtnet.py',
    '../_base_/datasets/msd_brain.py',
    '../_base_/schedules/schedule_45e.py', '../_base_/default_runtime.py'
]
# Hamburgers: HamNet's one-step gradient through 6 NMF steps in training,
# 2 at inference; channels-last convolutions (cheaper steps on CPU)
ham_kwargs = dict(
    MD_S=1, MD_R=16, train_steps=6, eval_steps=2, one_step_grad=True)
model = dict(
    channels_last=True,
    decode_head=dict(ham_kwargs=ham_kwargs),
    cls_head=dict(ham_kwargs=ham_kwargs))
max_epochs = 90
train_cfg = dict(
    max_epochs=max_epochs,
    val_interval=6,
    dynamic_intervals=[(max_epochs - 10, 2)])
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs),
]
# the last checkpoint is the one to publish; the best by multi_task/score
# is kept beside it for inspection only
default_hooks = dict(checkpoint=dict(save_last=True))
