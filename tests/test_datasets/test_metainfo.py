import os.path as osp

from mmengine.config import Config

from mtnet_plugin.datasets.metainfo import config_metainfo

from ..conftest import REPO

CONFIGS = osp.join(REPO, 'configs', 'efficient_mtnet')


def test_class_names_come_from_the_config_s_data():
    coco = Config.fromfile(
        osp.join(CONFIGS, 'efficient_mtnet_1xb8-45e_brain-tumor-320x320.py'))
    msd = Config.fromfile(
        osp.join(CONFIGS, 'efficient_mtnet_1xb8-90e_msd-brain-320x320.py'))
    assert config_metainfo(coco)['cls_classes'] == ('0', '1')
    assert config_metainfo(msd)['cls_classes'] == ('no tumor', 'tumor')
    assert config_metainfo(msd)['classes'] == ('background', 'tumor')


def test_names_fall_back_to_the_dataset_class_then_a_default():
    """A config that sets no metainfo gets its dataset class's names; the
    test dataset's come before the training one's."""
    cfg = Config(
        dict(
            train_dataloader=dict(dataset=dict(type='CocoTumorDataset')),
            test_dataloader=dict(dataset=dict(type='MSDSliceDataset'))))
    assert config_metainfo(cfg)['cls_classes'] == ('no tumor', 'tumor')
    cfg.test_dataloader.dataset.metainfo = dict(cls_classes=('a', 'b'))
    assert config_metainfo(cfg)['cls_classes'] == ('a', 'b')
    cfg.metainfo = dict(cls_classes=('x', 'y'))
    assert config_metainfo(cfg)['cls_classes'] == ('x', 'y')
    assert config_metainfo(Config(dict()))['cls_classes'] == ('0', '1')
