import numpy as np
import torch

from mtnet_plugin.datasets.transforms import PackMultiTaskInputs


def test_packs_seg_map_and_image_label():
    mask = np.zeros((6, 8), np.uint8)
    mask[1:3, 2:4] = 1
    results = dict(
        img=np.zeros((6, 8, 3), np.uint8), gt_seg_map=mask, gt_label=1,
        img_path='a.jpg', ori_shape=(6, 8), img_shape=(6, 8))
    packed = PackMultiTaskInputs()(results)
    sample = packed['data_samples']
    assert tuple(packed['inputs'].shape) == (3, 6, 8)
    assert torch.equal(sample.gt_sem_seg.data[0],
                       torch.from_numpy(mask).long())
    assert sample.gt_label.dtype == torch.long
    assert sample.gt_label.tolist() == [1]
    # what mmpretrain's metrics read after to_dict()
    assert sample.to_dict()['gt_label'].tolist() == [1]
