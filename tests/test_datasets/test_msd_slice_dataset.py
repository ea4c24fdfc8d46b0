"""MSDSliceDataset on synthetic task folders written by the tests: splits,
channels, labels, slice sampling, the cache, and bad input."""
import json
import logging
import os
import os.path as osp
import shutil

import numpy as np
import pytest

from mtnet_plugin.datasets import BadSampleError, MSDSliceDataset
from mtnet_plugin.datasets.medical_volume import read_medical
from mtnet_plugin.datasets.synthetic_msd import generate_msd_task

nib = pytest.importorskip('nibabel')

SHAPE = (24, 28, 10)


@pytest.fixture(scope='module')
def task(tmp_path_factory):
    return generate_msd_task(
        str(tmp_path_factory.mktemp('msd') / 'Task01'), num_train=8,
        num_test=2, shape=SHAPE, seed=3)


@pytest.fixture
def cache(tmp_path):
    return str(tmp_path / 'cache')


def build(root, cache_dir, **kwargs):
    return MSDSliceDataset(data_root=root, cache_dir=cache_dir,
                           pipeline=[], **kwargs)


def snapshot(root):
    return sorted((osp.relpath(osp.join(d, f), root),
                   os.stat(osp.join(d, f)).st_mtime_ns)
                  for d, _, files in os.walk(root) for f in files)


def test_splits_are_by_case_and_cover_every_slice(task, cache):
    before = snapshot(task)
    train = build(task, cache, split='train')
    val = build(task, cache, split='val', test_mode=True)
    test = build(task, cache, split='test', test_mode=True)
    tr = {c['case_id'] for c in train.cases}
    va = {c['case_id'] for c in val.cases}
    assert not tr & va and len(tr | va) == 8 and len(va) == 2  # 20 % of 8
    assert {c['case_id'] for c in test.cases} == {'BRATS_009', 'BRATS_010'}
    # every slice of every case, in order
    n = SHAPE[2]
    assert len(val) == len(va) * n and len(test) == 2 * n
    assert [val.get_data_info(i)['slice_index'] for i in range(n)] == \
        list(range(n))
    # another split_seed, another fold; the same seed, the same fold
    assert {c['case_id'] for c in build(
        task, cache, split='val', split_seed=1).cases} != va
    assert {c['case_id'] for c in build(task, cache, split='val').cases} \
        == va
    assert snapshot(task) == before  # nothing written into the task


def test_test_split_falls_back_to_the_fold_without_labels(tmp_path, cache):
    root = generate_msd_task(str(tmp_path / 'T'), num_train=5, num_test=2,
                             shape=SHAPE, test_labels=False)
    test = build(root, cache, split='test')
    val = build(root, cache, split='val')
    assert [c['case_id'] for c in test.cases] == \
        [c['case_id'] for c in val.cases]


def test_slices_masks_and_labels_match_the_volumes(task, cache):
    """Channels are what tools/infer.py reads from the same file; the mask
    is the label volume (> 0) in display order; the image class is tumor
    presence; tumor_labels picks label values or names."""
    ds = build(task, cache, split='test', test_mode=True)
    case = ds.cases[0]
    vol = read_medical(case['image'])  # the inference reader
    lbl = np.asarray(nib.load(case['label']).dataobj)
    masks = np.load(case['label_cache'])
    np.testing.assert_array_equal(np.load(case['volume_cache']), vol.slices)
    np.testing.assert_array_equal(masks, vol.to_display(lbl > 0))
    assert masks.sum() == (lbl > 0).sum() > 0
    for i in range(case['num_slices']):
        info = ds.get_data_info(i)
        assert info['gt_label'] == int(masks[i].any())
        assert info['voxel_volume_ml'] == pytest.approx(1.5 * 1.5 * 3e-3)
    assert {ds.get_data_info(i)['gt_label'] for i in range(len(ds))} == \
        {0, 1}
    for rule in ([3], ['enhancing tumour'], ['3']):
        only = build(task, cache, split='test', tumor_labels=rule)
        assert np.load(only.cases[0]['label_cache']).sum() == \
            (lbl == 3).sum() < (lbl > 0).sum()


def test_named_modalities_and_one_modality_tasks(task, tmp_path, cache):
    default = build(task, cache, split='test').cases[0]
    named = build(task, cache, split='test',
                  modalities=('t2W', 'flair', 'FLAIR')).cases[0]
    a, b = np.load(default['volume_cache']), np.load(named['volume_cache'])
    np.testing.assert_array_equal(b[..., 1], a[..., 0])
    np.testing.assert_array_equal(b[..., 2], a[..., 0])
    assert not np.array_equal(b[..., 0], a[..., 2])  # T2w is not t1gd
    # a one-modality task: the slice repeated, or with its neighbours
    one = generate_msd_task(str(tmp_path / 'One'), num_train=4, num_test=1,
                            shape=SHAPE, modalities=('T2', ))
    from mtnet_plugin.datasets.transforms import LoadVolumeSlice
    load = LoadVolumeSlice()
    rep = build(one, cache, split='test')
    ctx = build(one, cache, split='test', slice_context=True)
    stack = np.load(rep.cases[0]['volume_cache'])
    assert stack.ndim == 3
    for i in (0, 4, SHAPE[2] - 1):
        img = load(dict(rep.get_data_info(i)))['img']
        assert all((img[..., c] == stack[i]).all() for c in range(3))
        img = load(dict(ctx.get_data_info(i)))['img']
        for c, j in enumerate((i - 1, i, i + 1)):
            np.testing.assert_array_equal(
                img[..., c], stack[min(max(j, 0), SHAPE[2] - 1)])
    with pytest.raises(ValueError, match='slice_context needs one'):
        build(task, cache, slice_context=True)


def test_tumor_slice_ratio_keeps_every_tumor_slice(task, cache):
    full = build(task, cache, split='train')
    half = build(task, cache, split='train', tumor_slice_ratio=0.5)
    labels = [half.get_data_info(i)['gt_label'] for i in range(len(half))]
    n_tumor = sum(full.get_data_info(i)['gt_label'] for i in range(len(full)))
    assert sum(labels) == n_tumor
    assert len(half) < len(full)
    assert labels.count(0) == sum(labels)  # as many without tumor as with
    quarter = build(task, cache, split='train', tumor_slice_ratio=0.25)
    assert quarter.build_report['slices_without_tumor'] == 3 * n_tumor
    assert half.build_report['tumor_slices'] == n_tumor
    # drawn among slices with content, from every case
    for k, case in enumerate(quarter.cases):
        blank = set(range(case['num_slices'])) - set(case['nonblank_slices'])
        assert not blank & {
            quarter.get_data_info(i)['slice_index']
            for i in range(len(quarter))
            if quarter.get_data_info(i)['case_id'] == case['case_id']
        }


def test_cache_is_reused_and_refreshed(task, tmp_path, cache, monkeypatch):
    root = str(tmp_path / 'copy')
    shutil.copytree(task, root)
    build(root, cache, split='test')
    from mtnet_plugin.datasets import msd_slice_dataset as module

    def fail(*args, **kwargs):
        raise AssertionError('decoded again')

    monkeypatch.setattr(module, 'read_medical', fail)
    build(root, cache, split='test')  # everything from the cache
    image = osp.join(root, 'imagesTs', 'BRATS_009.nii.gz')
    os.utime(image, ns=(1, 1))  # a changed file is decoded again
    with pytest.raises(AssertionError, match='decoded again'):
        build(root, cache, split='test')


# ---------------------------------------------------------------- bad input
def _edit(task, tmp_path, name='Bad'):
    root = str(tmp_path / name)
    shutil.copytree(task, root)
    return root


def _rewrite(path, data=None, affine=None):
    img = nib.load(path)
    data = np.asarray(img.dataobj) if data is None else data
    nib.save(nib.Nifti1Image(data, img.affine if affine is None else affine),
             path)


def test_shape_or_affine_mismatch_names_both_files(task, tmp_path, cache):
    root = _edit(task, tmp_path)
    label = osp.join(root, 'labelsTs', 'BRATS_009.nii.gz')
    _rewrite(label, data=np.zeros((24, 28, 9), np.uint8))
    with pytest.raises(BadSampleError,
                       match=r'imagesTs/BRATS_009.nii.gz and label .*'
                       r'labelsTs/BRATS_009.nii.gz.*shape'):
        build(root, cache, split='test')
    _rewrite(label, data=np.zeros(SHAPE, np.uint8),
             affine=np.diag([1.5, 1.5, 2.0, 1.0]))
    with pytest.raises(BadSampleError, match='BRATS_009.*affines differ'):
        build(root, cache, split='test')


def test_unknown_names_list_what_the_task_has(task, cache):
    with pytest.raises(ValueError,
                       match=r"\['T1c'\] are not in .*'FLAIR', 'T1w', "
                       r"'t1gd', 'T2w'"):
        build(task, cache, modalities=('FLAIR', 'T1c', 'T2w'))
    with pytest.raises(ValueError, match=r"\['necrosis'\] are not in"):
        build(task, cache, tumor_labels=['necrosis'])


def test_missing_case_file_is_named(task, tmp_path, cache):
    root = _edit(task, tmp_path)
    os.remove(osp.join(root, 'labelsTr', 'BRATS_002.nii.gz'))
    with pytest.raises(FileNotFoundError,
                       match='labelsTr/BRATS_002.nii.gz'):
        # whichever split the case is in, both list-checks see it
        build(root, cache, split='train')
        build(root, cache, split='val')


def test_nan_and_2d_volumes_are_counted_logged_skips(task, tmp_path, cache,
                                                     current_logger):
    root = _edit(task, tmp_path)
    nan_img = osp.join(root, 'imagesTs', 'BRATS_009.nii.gz')
    data = np.asarray(nib.load(nan_img).dataobj).astype(np.float32)
    data[3, 3, 3, 0] = np.nan
    _rewrite(nan_img, data=data)
    before = snapshot(root)
    messages = []

    class Keep(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    current_logger.addHandler(Keep())
    ds = build(root, cache, split='test')
    assert len(ds) == SHAPE[2] and ds.build_report['skipped'] == 1
    assert [c['case_id'] for c in ds.cases] == ['BRATS_010']
    assert 'BRATS_009' in ds.skipped[0] and '1 NaN' in ds.skipped[0]
    out = '\n'.join(messages)
    assert 'skipped: ' in out and 'BRATS_009.nii.gz: 1 NaN' in out
    assert '1 cases, 1 skipped' in out
    # a second build reads the skip from the cache and still reports it
    messages.clear()
    again = build(root, cache, split='test')
    assert again.build_report['skipped'] == 1
    assert 'BRATS_009.nii.gz: 1 NaN' in '\n'.join(messages)
    assert snapshot(root) == before
    flat = osp.join(root, 'imagesTs', 'BRATS_010.nii.gz')
    _rewrite(flat, data=np.asarray(nib.load(flat).dataobj)[:, :, :1])
    _rewrite(osp.join(root, 'labelsTs', 'BRATS_010.nii.gz'),
             data=np.zeros((24, 28, 1), np.uint8))
    # nothing left: one error listing both skips
    with pytest.raises(BadSampleError,
                       match=r'no usable volume in the test split; 2 '
                       r'skipped.*BRATS_009.*NaN.*BRATS_010.*2D'):
        build(root, cache, split='test')


def test_dataset_json_errors_name_the_file(tmp_path, cache):
    with pytest.raises(FileNotFoundError, match='nowhere/dataset.json'):
        build(str(tmp_path / 'nowhere'), cache)
    root = tmp_path / 'j'
    root.mkdir()
    (root / 'dataset.json').write_text(json.dumps(dict(modality={})))
    with pytest.raises(BadSampleError, match='dataset.json.*"labels"'):
        build(str(root), cache)
