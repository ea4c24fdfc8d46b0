# EfficientMTNet trained from scratch on the export's train/ split at
# 320x320 on 2 CPU cores (1 process x batch 8, 45 epochs, EMA), selected on
# valid/ by the mean of tumor Dice and accuracy. The HamNet one-step NMF
# gradient and channels-last make a step cheaper than the 640x640 default.
_base_ = [
    '../_base_/models/efficient_mtnet.py',
    '../_base_/datasets/brain_tumor_coco_320x320.py',
    '../_base_/schedules/schedule_45e.py', '../_base_/default_runtime.py'
]
ham_kwargs = dict(
    MD_S=1, MD_R=16, train_steps=6, eval_steps=2, one_step_grad=True)
model = dict(
    channels_last=True,
    decode_head=dict(ham_kwargs=ham_kwargs),
    cls_head=dict(ham_kwargs=ham_kwargs))
