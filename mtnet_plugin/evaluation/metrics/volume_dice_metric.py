"""3D tumor Dice and volume error of slices stacked back into volumes."""
import csv
import json
import math
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS


@METRICS.register_module()
class VolumeDiceMetric(BaseMetric):
    """Per-volume tumor Dice and volume error, for slices of volumes.

    Each slice (a sample with ``case_id``, ``slice_index``, ``num_slices``
    and ``voxel_volume_ml`` in its metainfo, as
    :class:`~mtnet_plugin.datasets.MSDSliceDataset` gives) adds its tumor
    voxels, predicted and true, and their overlap to its volume; the 3D
    Dice of a volume is ``2 |P & G| / (|P| + |G|)`` over all its voxels,
    the same number as the Dice of the stacked 3D masks. Predictions are
    compared at the slice's own resolution (mmseg resizes them back).

    Returns:
        - ``volume_dice``: mean 3D tumor Dice over the volumes with tumor
          (0-1, as medical tools report it; a volume without tumor has no
          Dice and is counted in ``volume_cases_without_tumor``);
        - ``volume_error_ml`` / ``volume_abs_error_ml``: mean signed /
          absolute error of the predicted tumor volume in mL (all volumes);
        - ``volume_cases``: volumes evaluated.

    The per-case table (case, slices, Dice, true and predicted mL, error)
    is kept in ``per_case`` after evaluation, logged, and written to
    ``out_file`` (``.json`` or ``.csv``) when given; ``tools/test.py
    --out`` writes it too.

    Args:
        tumor_class (str): Class name of the tumor. Default: 'tumor'.
        ignore_index (int): Label value left out. Default: 255.
        out_file (str, optional): Where to write the per-case table.
        **kwargs: ``collect_device``, ``prefix`` of ``BaseMetric``.
    """

    def __init__(self,
                 tumor_class: str = 'tumor',
                 ignore_index: int = 255,
                 out_file: Optional[str] = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.tumor_class = tumor_class
        self.ignore_index = ignore_index
        self.out_file = out_file
        self.per_case: List[dict] = []

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Tumor voxels (predicted, true, both) of each slice."""
        classes = list(self.dataset_meta['classes'])
        t = classes.index(self.tumor_class)
        for sample in data_samples:
            if 'case_id' not in sample:
                raise KeyError(
                    'VolumeDiceMetric needs samples with case_id, '
                    'slice_index, num_slices and voxel_volume_ml (a '
                    f'volume dataset such as MSDSliceDataset); '
                    f'{sample.get("img_path")} has none')
            pred = sample['pred_sem_seg']['data'].squeeze(0)
            gt = sample['gt_sem_seg']['data'].squeeze(0).to(pred.device)
            valid = gt != self.ignore_index
            p = (pred == t) & valid
            g = (gt == t) & valid
            self.results.append(
                dict(
                    case_id=sample['case_id'],
                    slice_index=int(sample['slice_index']),
                    num_slices=int(sample['num_slices']),
                    voxel_volume_ml=float(sample['voxel_volume_ml']),
                    pred=int(p.sum()),
                    gt=int(g.sum()),
                    inter=int((p & g).sum())))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        cases = defaultdict(list)
        for r in results:
            cases[r['case_id']].append(r)
        rows = []
        for case_id in sorted(cases):
            slices = cases[case_id]
            seen = {r['slice_index'] for r in slices}
            if len(seen) != slices[0]['num_slices']:
                print_log(
                    f'[VolumeDiceMetric] {case_id}: {len(seen)} of '
                    f'{slices[0]["num_slices"]} slices evaluated; its '
                    'figures cover those only', logger='current',
                    level=30)
            pred = sum(r['pred'] for r in slices)
            gt = sum(r['gt'] for r in slices)
            inter = sum(r['inter'] for r in slices)
            ml = slices[0]['voxel_volume_ml']
            rows.append(
                dict(
                    case_id=case_id,
                    slices=len(seen),
                    dice=2 * inter / (pred + gt) if gt else None,
                    gt_ml=gt * ml,
                    pred_ml=pred * ml,
                    error_ml=(pred - gt) * ml))
        self.per_case = rows
        with_tumor = [r['dice'] for r in rows if r['dice'] is not None]
        metrics = dict(
            volume_dice=sum(with_tumor) / len(with_tumor)
            if with_tumor else math.nan,
            volume_error_ml=sum(r['error_ml'] for r in rows) / len(rows),
            volume_abs_error_ml=sum(abs(r['error_ml'])
                                    for r in rows) / len(rows),
            volume_cases=len(rows),
            volume_cases_without_tumor=len(rows) - len(with_tumor))
        print_log(self.format_table(rows), logger='current')
        if self.out_file:
            self.write_table(rows, self.out_file)
        return metrics

    @staticmethod
    def format_table(rows: List[dict]) -> str:
        lines = [
            'per-volume tumor Dice and volume:',
            f'{"case":<24} {"slices":>6} {"dice":>7} {"true mL":>9} '
            f'{"pred mL":>9} {"error mL":>9}'
        ]
        for r in rows:
            dice = '-' if r['dice'] is None else f'{r["dice"]:.4f}'
            lines.append(
                f'{r["case_id"]:<24} {r["slices"]:>6} {dice:>7} '
                f'{r["gt_ml"]:>9.2f} {r["pred_ml"]:>9.2f} '
                f'{r["error_ml"]:>+9.2f}')
        return '\n'.join(lines)

    @staticmethod
    def write_table(rows: List[dict], out_file: str) -> str:
        """The per-case table as JSON (a list of rows) or, for a ``.csv``
        name, CSV; written to a temporary name and renamed."""
        os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
        tmp = out_file + '.part'
        with open(tmp, 'w', newline='') as f:
            if out_file.endswith('.csv'):
                writer = csv.DictWriter(
                    f, fieldnames=['case_id', 'slices', 'dice', 'gt_ml',
                                   'pred_ml', 'error_ml'])
                writer.writeheader()
                writer.writerows(rows)
            else:
                json.dump(rows, f, indent=2)
        os.replace(tmp, out_file)
        return out_file
