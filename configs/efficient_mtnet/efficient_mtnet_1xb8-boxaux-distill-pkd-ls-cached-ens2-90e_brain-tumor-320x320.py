# The default weights' 90-epoch recipe
# (efficient_mtnet_1xb8-boxaux-distill-pkd-ls-90e_brain-tumor-320x320.py)
# taught by two teachers as one ensemble, read from a cache: DDRNet-23-slim
# and the shipped 90-epoch EfficientMTNet weights (valid tumor Dice 80.66
# and 79.95 alone, 81.25 together; `score_teachers.py`). The targets are
# the log of their mean softmax at EfficientMTNet's 1/4 map; each sample's
# flip and rotation are applied to them in the pipeline.
# The weights kept are the last epoch's EMA (no choice among checkpoints);
# the last three checkpoints are kept so that `--resume` always has one.
# Write the cache once, then train, from the repository root:
#   python tools/analysis_tools/cache_teacher_logits.py THIS_CONFIG
#   python tools/train.py THIS_CONFIG [--resume]
_base_ = [
    './efficient_mtnet_1xb8-boxaux-distill-pkd-ls-90e_brain-tumor-320x320.py'
]
model = dict(teacher=[
    dict(
        config='configs/ddrnet/ddrnet_23-slim_1xb8-45e_brain-tumor-320x320.py',
        checkpoint='checkpoints/ddrnet_23-slim_320_brain_tumor-112b47a8.pth'),
    dict(
        config='configs/efficient_mtnet/'
        'efficient_mtnet_1xb8-boxaux-distill-pkd-ls-90e_brain-tumor-320x320.py',
        checkpoint='checkpoints/efficient_mtnet_320_brain_tumor-148cff59.pth'),
])
teacher_cache = ('work_dirs/teacher_logits/ddrnet_23-slim-112b47a8+'
                 'efficient_mtnet-148cff59_train-320x320.npz')
train_pipeline = [
    _base_.train_pipeline[0],  # CachedCompose: load, annotations, resize
    dict(type='LoadTeacherLogits', cache_file=teacher_cache),
    *_base_.train_pipeline[1:],  # flip, rotation, photometric, pack
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
default_hooks = dict(checkpoint=dict(max_keep_ckpts=3))
