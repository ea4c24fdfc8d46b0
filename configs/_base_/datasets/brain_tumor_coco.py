# The Roboflow "TumorSegmentation" COCO export (CC BY 4.0): train/valid/test
# folders, each with its images and _annotations.coco.json, laid out under
# data/brain-tumor-coco by tools/dataset_converters/brain_tumor_coco.py.
# Another copy, for every dataloader at once:
#   BRAIN_TUMOR_DATA_ROOT=/path/to/copy python tools/train.py CONFIG
dataset_type = 'CocoTumorDataset'
data_root = '{{$BRAIN_TUMOR_DATA_ROOT:data/brain-tumor-coco}}'
crop_size = (640, 640)
# Category names "0"/"1" -> image classes 0/1; the super-category "Tumor" is
# used by no annotation. One train image has no annotation: label 0.
metainfo = dict(
    classes=('background', 'tumor'),
    palette=[[0, 0, 0], [255, 0, 0]],
    cls_classes=('0', '1'))
dataset_kwargs = dict(
    type=dataset_type,
    label_mode='category',
    category_map={
        '0': 0,
        '1': 1
    },
    empty_label=0,
    metainfo=metainfo)
train_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(type='LoadTumorAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0, seg_pad_val=0),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=24,
        contrast_range=(0.8, 1.2),
        saturation_range=(1.0, 1.0),
        hue_delta=1),  # greyscale: hue is irrelevant (0 breaks mmseg)
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    # annotations after Resize: metrics are computed at the original size
    dict(type='LoadTumorAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
# Test-time augmentation (tools/test.py --tta): the image and its horizontal
# flip, whose predictions the runtime's tta_model (MultiTaskTTAModel)
# averages for both tasks (the
# mask's softmax after undoing the flip, and the class probabilities).
# Vertical flips, which training never shows, cost Dice.
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
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        **dataset_kwargs,
        data_root=data_root,
        ann_file='train/_annotations.coco.json',
        data_prefix=dict(img_path='train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **dataset_kwargs,
        data_root=data_root,
        ann_file='valid/_annotations.coco.json',
        data_prefix=dict(img_path='valid'),
        test_mode=True,
        pipeline=test_pipeline))
# The export's held-out test/ split. Copies without it get a
# FileNotFoundError that says how to evaluate on valid/ instead:
#   --cfg-options test_dataloader.dataset.ann_file=valid/_annotations.coco.json
#                 test_dataloader.dataset.data_prefix.img_path=valid
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'],
        ann_file='test/_annotations.coco.json',
        data_prefix=dict(img_path='test')))

# One evaluator, both tasks (keys documented in the README):
#   aAcc, mIoU, mDice          means over background AND tumor (mmseg's)
#   tumor_IoU, tumor_Dice      the tumor class alone
#   accuracy/top1, single-label/{precision,recall,f1-score} (macro)
#   confusion/gt_<i>_pred_<j>  confusion-matrix cells (also printed as a table)
#   multi_task/score           mean of tumor Dice and accuracy (checkpoint
#                              selection on both tasks)
#   calibration/{ECE,NLL,overconfident_pct}  of the class probabilities
val_evaluator = [
    dict(type='TumorIoUMetric', iou_metrics=['mIoU', 'mDice']),
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
