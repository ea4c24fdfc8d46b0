# The shipped recipe (with the training-only extent head) with mmseg's
# scale augmentation: each image resized by a random factor in 0.5-2.0 of
# 320x320 (keeping its ratio), then a random 320x320 crop in which no class
# covers more than 75 % (cat_max_ratio); images smaller than the crop are
# padded by the data preprocessor (labels with 255, ignored). The cache
# holds the images at 640x640, the largest scale asked for. For small
# lesions, which the 1/8 features resolve worst.
_base_ = ['./efficient_mtnet_1xb8-boxaux-45e_brain-tumor-320x320.py']
cache_size = (640, 640)
train_pipeline = [
    dict(
        type='CachedCompose',
        transforms=[
            dict(type='LoadMRIImageFromFile'),
            dict(type='LoadTumorAnnotations'),
            dict(type='Resize', scale=cache_size, keep_ratio=False),
        ]),
    dict(
        type='RandomResize',
        scale={{_base_.crop_size}},
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(
        type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=0.75),
    # the base's flip, rotation, intensity and packing
    *_base_.train_pipeline[1:],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
