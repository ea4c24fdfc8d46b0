# The distilled, label-smoothed recipe
# (efficient_mtnet_1xb8-boxaux-distill-pkd-ls-45e_brain-tumor-320x320.py)
# with the teacher's logits read from a cache instead of computed at every
# step: DDRNet-23-slim is run once over the 320x320 training images, and
# each sample's flip and rotation are applied to its logits in the pipeline
# (LoadTeacherLogits). The targets are the teacher's answer on the
# undistorted image. Write the cache once, then train, from the
# repository root:
#   python tools/analysis_tools/cache_teacher_logits.py THIS_CONFIG
#   python tools/train.py THIS_CONFIG
_base_ = [
    './efficient_mtnet_1xb8-boxaux-distill-pkd-ls-45e_brain-tumor-320x320.py'
]
teacher_cache = ('work_dirs/teacher_logits/'
                 'ddrnet_23-slim_320_brain_tumor-112b47a8_train-320x320.npz')
train_pipeline = [
    _base_.train_pipeline[0],  # CachedCompose: load, annotations, resize
    dict(type='LoadTeacherLogits', cache_file=teacher_cache),
    *_base_.train_pipeline[1:],  # flip, rotation, photometric, pack
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
