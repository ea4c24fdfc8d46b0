import json

import pytest

from ..conftest import load_tool

read_curves = load_tool('analysis_tools/plot_training_curve.py').read_curves


def _write(path, records):
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))
    return str(path)


def test_read_curves_averages_loss_per_epoch(tmp_path):
    f = _write(tmp_path / 'scalars.json', [
        dict(epoch=1, step=1, loss=1.0),
        dict(epoch=1, step=2, loss=3.0),
        dict(epoch=2, step=3, loss=0.5),
        dict(step=2, tumor_Dice=60.0),
    ])
    loss, val = read_curves(f)
    assert loss == {1: 2.0, 2: 0.5}
    assert val == {2: 60.0}


def test_read_curves_later_file_of_a_resumed_run_wins(tmp_path):
    # the first start reached into epoch 3; the resumed one restarts epoch 3
    first = _write(tmp_path / 'a.json', [
        dict(epoch=2, step=1, loss=2.0),
        dict(step=2, tumor_Dice=50.0),
        dict(epoch=3, step=2, loss=9.0),
    ])
    second = _write(tmp_path / 'b.json', [
        dict(epoch=3, step=3, loss=1.0),
        dict(epoch=3, step=4, loss=2.0),
        dict(step=4, tumor_Dice=70.0),
    ])
    loss, val = read_curves([first, second])
    assert loss == {2: 2.0, 3: 1.5}
    assert val == {2: 50.0, 4: 70.0}
    assert list(val) == sorted(val)


def test_read_curves_other_metric(tmp_path):
    f = _write(tmp_path / 's.json', [dict(step=4, tumor_Dice=1.0,
                                          tumor_IoU=2.0)])
    assert read_curves(f, 'tumor_IoU')[1] == {4: 2.0}
    with pytest.raises(FileNotFoundError):
        read_curves(str(tmp_path / 'missing.json'))
