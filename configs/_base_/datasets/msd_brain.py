# A Medical Segmentation Decathlon task folder (Task01_BrainTumour, or a
# BraTS download laid out the same way: dataset.json, imagesTr/, labelsTr/,
# optionally imagesTs/ + labelsTs/), read as axial 2D slices at 320x320.
# Another copy, for every dataloader at once:
#   BRAIN_TUMOR_DATA_ROOT=/path/to/Task01_BrainTumour python tools/train.py CONFIG
# Channels: modalities=None takes the task's first three modalities
# (Task01: FLAIR, T1w, T1gd), or repeats a one-modality task's slice, as
# tools/infer.py does for a NIfTI; name them to choose, e.g.
# modalities=('FLAIR', 't1gd', 'T2w'). Tumor: every label > 0.
# Image class: tumor present in the slice. Validation: a fold of 20 % of the
# training cases (split_seed 0); test: imagesTs/ + labelsTs/ where labelled,
# else that fold. Volumes are decoded once into ~/.cache/efficient-mtnet/msd.
dataset_type = 'MSDSliceDataset'
data_root = '{{$BRAIN_TUMOR_DATA_ROOT:data/msd-brain}}'
crop_size = (320, 320)
metainfo = dict(
    classes=('background', 'tumor'),
    palette=[[0, 0, 0], [255, 0, 0]],
    cls_classes=('no tumor', 'tumor'))
dataset_kwargs = dict(
    type=dataset_type,
    data_root=data_root,
    modalities=None,
    slice_context=False,
    tumor_labels=None,
    val_fraction=0.2,
    split_seed=0,
    metainfo=metainfo)
train_pipeline = [
    dict(type='LoadVolumeSlice'),
    dict(type='LoadVolumeSliceAnnotation'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0, seg_pad_val=0),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=24,
        contrast_range=(0.8, 1.2),
        saturation_range=(1.0, 1.0),
        hue_delta=1),  # hue is meaningless here (0 breaks mmseg)
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadVolumeSlice'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    # the mask after Resize: metrics at the slice's own resolution
    dict(type='LoadVolumeSliceAnnotation'),
    dict(type='PackMultiTaskInputs'),
]
tta_pipeline = [
    dict(type='LoadVolumeSlice'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=crop_size, keep_ratio=False)],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadVolumeSliceAnnotation')],
            [dict(type='PackMultiTaskInputs')],
        ])
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        **dataset_kwargs,
        split='train',
        # half the slices with tumor, half without (drawn among those with
        # any non-zero voxel)
        tumor_slice_ratio=0.5,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset_kwargs, split='val', test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split='test'))
# The slice metrics of the 2D data (tumor class alone beside mmseg's means,
# image class "tumor present"), and the volume metrics: mean 3D tumor Dice
# (volume_dice, 0-1) and tumor volume error in mL of the stacked slices.
val_evaluator = [
    dict(type='TumorIoUMetric', iou_metrics=['mIoU', 'mDice']),
    dict(type='VolumeDiceMetric'),
    dict(type='mmpretrain.Accuracy', topk=(1, )),
    dict(
        type='mmpretrain.SingleLabelMetric',
        items=('precision', 'recall', 'f1-score'),
        average='macro'),
    dict(type='ReadableConfusionMatrix', num_classes=2),
    dict(type='MultiTaskScore'),
    dict(type='ExpectedCalibrationError'),
]
test_evaluator = val_evaluator
