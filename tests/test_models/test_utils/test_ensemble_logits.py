import pytest
import torch

from mtnet_plugin.models.utils import ensemble_logits


def test_softmax_of_the_result_is_the_mean_of_the_models():
    torch.manual_seed(0)
    a, b = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    out = ensemble_logits([a, b])
    assert out.shape == (2, 3, 8, 8) and out.dtype == torch.float32
    torch.testing.assert_close(out.softmax(1),
                               (a.softmax(1) + b.softmax(1)) / 2)
    # one model: its own probabilities (the log-softmax of its logits)
    torch.testing.assert_close(ensemble_logits([a]), a.log_softmax(1))
    # a confident model and an unsure one: in between
    sure = torch.zeros(1, 2, 1, 1)
    sure[:, 1] = 20.0
    p = ensemble_logits([sure, torch.zeros(1, 2, 1, 1)]).softmax(1)[0, 1]
    assert float(p) == pytest.approx(0.75, abs=1e-6)


def test_models_at_other_strides_meet_at_the_finest_map():
    torch.manual_seed(0)
    coarse, fine = torch.randn(1, 2, 4, 4), torch.randn(1, 2, 8, 8)
    out = ensemble_logits([coarse, fine])
    assert out.shape == (1, 2, 8, 8)
    up = torch.nn.functional.interpolate(coarse, size=(8, 8),
                                         mode='bilinear', align_corners=False)
    torch.testing.assert_close(out.softmax(1),
                               (up.softmax(1) + fine.softmax(1)) / 2)
    with pytest.raises(ValueError, match='disagree'):
        ensemble_logits([torch.randn(1, 2, 4, 4), torch.randn(1, 3, 4, 4)])
    with pytest.raises(ValueError, match='at least one'):
        ensemble_logits([])
