# The embedded synthetic dataset (tools/dataset_converters/
# make_synthetic_mri.py), in the same Roboflow layout as the real export.
_base_ = ['./brain_tumor_coco.py']
data_root = 'data/synthetic_mri'
crop_size = (256, 256)
train_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(type='LoadTumorAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0, seg_pad_val=0),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=16,
        contrast_range=(0.85, 1.15),
        saturation_range=(1.0, 1.0),
        hue_delta=1),  # greyscale: hue is irrelevant (0 breaks mmseg)
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadTumorAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
tta_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=crop_size, keep_ratio=False)],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadTumorAnnotations')],
            [dict(type='PackMultiTaskInputs')],
        ])
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='test/_annotations.coco.json',
        data_prefix=dict(img_path='test'),
        pipeline=test_pipeline))
