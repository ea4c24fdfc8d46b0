"""A config-built EfficientMTNet trains through mmengine's Runner."""
import copy

import torch
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


class _RandomSegDataset(torch.utils.data.Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        img = torch.randint(0, 255, (3, 64, 64), generator=g,
                            dtype=torch.uint8)
        seg = torch.zeros(1, 64, 64, dtype=torch.long)
        seg[:, 10:30, 20:40] = 1
        s = SegDataSample(
            metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64)))
        s.gt_sem_seg = PixelData(data=seg)
        s.set_field(torch.tensor([i % 2]), 'gt_label')
        return dict(inputs=img, data_samples=s)


def build_runner(model, work_dir, max_iters, **kwargs):
    """A Runner that trains ``model`` on the random dataset for
    ``max_iters`` iterations of batch 2 and saves at the last one."""
    return Runner(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_RandomSegDataset(),
            batch_size=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                type='CheckpointHook', interval=max_iters, by_epoch=False)),
        default_scope='mmseg',
        **kwargs)


def test_runner_trains_a_few_iterations(model_cfg, tmp_path):
    runner = build_runner(copy.deepcopy(model_cfg), tmp_path, 3)
    before = {
        k: v.clone()
        for k, v in runner.model.state_dict().items() if v.is_floating_point()
    }
    runner.train()
    assert runner.iter == 3
    after = runner.model.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any(k.startswith('backbone.') for k in changed)
    assert any(k.startswith('cls_head.') for k in changed)
    assert (tmp_path / 'iter_3.pth').is_file()
    scalars = runner.message_hub.log_scalars
    for key in ('train/decode.loss_dice', 'train/decode.loss_focal',
                'train/cls.loss_cls', 'train/aux_0.loss_ce', 'train/loss'):
        assert key in scalars, key
