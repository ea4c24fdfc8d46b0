# The 45-epoch distilled, label-smoothed recipe with cached teacher logits
# (efficient_mtnet_1xb8-boxaux-distill-pkd-ls-cached-45e_brain-tumor-320x320.py)
# taught by two teachers as one ensemble: DDRNet-23-slim and the shipped
# 90-epoch EfficientMTNet weights. The targets are the log of their mean
# softmax at the finer map (EfficientMTNet's 1/4); on valid/ the ensemble
# segments better than either (tumor Dice 81.25 against 80.66 and 79.95,
# see docs/ablations.md). Write the cache once (both teachers over the
# training images), then train, from the repository root:
#   python tools/analysis_tools/cache_teacher_logits.py THIS_CONFIG
#   python tools/train.py THIS_CONFIG
# The weights kept are the last epoch's EMA.
_base_ = [
    './efficient_mtnet_1xb8-boxaux-distill-pkd-ls-cached-45e_brain-tumor-320x320.py'
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
    *_base_.train_pipeline[2:],  # flip, rotation, photometric, pack
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
