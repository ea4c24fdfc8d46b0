"""analyze_errors.py: the breakdown of a split agrees with the evaluator's
Dice and accounts for every image."""
import csv

import pytest

from ..conftest import load_tool, shipped_checkpoint


def _load(name):
    return load_tool(f'analysis_tools/{name}.py')


CONFIG, SHIPPED = shipped_checkpoint() or (None, None)


@pytest.mark.skipif(SHIPPED is None, reason='no shipped checkpoint')
def test_breakdown_matches_the_split_dice(synthetic_root, tmp_path):
    opts = [
        '--cfg-options', f'val_dataloader.dataset.data_root={synthetic_root}'
    ]
    report = _load('analyze_errors').main([
        CONFIG, SHIPPED, '--split', 'valid', '--csv',
        str(tmp_path / 'rows.csv'), '--json',
        str(tmp_path / 'b.json'), '--label-ceiling', '32', '128', *opts
    ])
    ref = _load('compare_backends').main([
        CONFIG, SHIPPED, '--backend', 'pytorch', *opts,
        'val_dataloader.dataset.ann_file=valid/_annotations.coco.json',
        'val_dataloader.dataset.data_prefix.img_path=valid'
    ])['backends']['pytorch']
    assert report['images'] == 8
    # the synthetic labels are 128 x 128: the round trip through their own
    # size is exact, through 32 x 32 not better
    assert report['label_ceiling']['128'] == 100.0
    assert report['label_ceiling']['32'] <= 100.0
    assert report['tumor_Dice'] == pytest.approx(ref['tumor_Dice'], abs=0.01)
    assert report['wrong'] == ref['wrong']
    # per image class: its images and wrong ones add up to the whole, and
    # match the confusion matrix's rows
    by_class = report['accuracy_by_class']
    assert sum(v['images'] for v in by_class.values()) == 8
    assert sum(v['wrong'] for v in by_class.values()) == report['wrong']
    for c, row in enumerate(ref['confusion']):
        if sum(row):
            assert by_class[str(c)]['images'] == sum(row)
            assert by_class[str(c)]['wrong'] == sum(row) - row[c]
    assert sum(report['error_share'].values()) == pytest.approx(100, abs=0.1)
    # a ceiling never falls below the Dice it starts from
    assert min(report['dice_without'].values()) >= report['tumor_Dice']
    rows = list(csv.DictReader(open(tmp_path / 'rows.csv')))
    assert len(rows) == 8
    sizes = [int(r['gt_px']) for r in rows]
    assert sizes == sorted(sizes)
    grouped = sum(g['images'] for g in report['by_size'].values())
    assert grouped == sum(int(r['found']) >= 0 for r in rows)
    # --split reads another folder of the same export
    train = _load('analyze_errors').main(
        [CONFIG, SHIPPED, '--split', 'train', *opts])
    assert train['images'] == 24
