"""``import mtnet_plugin`` makes every module visible in mmseg's registries."""
import pytest
from mmseg.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

import mtnet_plugin  # noqa: F401

EXPECTED = {
    MODELS: [
        'EfficientMTNetBackbone', 'MultiScaleFusion',
        'ProgressiveLightHamHead', 'FCNAuxHead', 'BoxExtentAuxHead',
        'HamClsHead',
        'MultiTaskEncoderDecoder', 'MultiTaskTTAModel',
        'DistillMultiTaskEncoderDecoder', 'ChannelWiseDivergence',
        'PixelKLDivergence',
        'BoundaryBandLoss', 'LossSum', 'SoftmaxFocalLoss', 'TumorDiceLoss'
    ],
    DATASETS: ['CocoTumorDataset', 'MSDSliceDataset'],
    TRANSFORMS:
    ['LoadMRIImageFromFile', 'LoadTumorAnnotations', 'PackMultiTaskInputs',
     'CachedCompose', 'SeededAlbu', 'LoadVolumeSlice',
     'LoadVolumeSliceAnnotation', 'LoadTeacherLogits'],
    METRICS: ['TumorIoUMetric', 'ReadableConfusionMatrix', 'MultiTaskScore',
              'ExpectedCalibrationError', 'VolumeDiceMetric'],
    HOOKS: ['TumorOverlayHook', 'AtomicCheckpointHook',
            'ResumableEarlyStoppingHook'],
}


@pytest.mark.parametrize(
    'registry,name',
    [(r, n) for r, names in EXPECTED.items() for n in names],
    ids=lambda x: getattr(x, 'name', x))
def test_registered_in_mmseg(registry, name):
    module = registry.get(name)
    assert module is not None, f'{name} not in mmseg {registry.name}'
    assert module.__module__.startswith('mtnet_plugin.')


def test_every_public_class_is_registered():
    """Nothing public in the plugin was forgotten in EXPECTED."""
    import inspect
    public = set()
    for pkg in (mtnet_plugin.models, mtnet_plugin.datasets,
                mtnet_plugin.evaluation, mtnet_plugin.engine):
        for name in getattr(pkg, '__all__', dir(pkg)):
            obj = getattr(pkg, name, None)
            if inspect.isclass(obj) and obj.__module__.startswith(
                    'mtnet_plugin.') and not issubclass(obj, Exception):
                public.add(name)
    expected = {n for names in EXPECTED.values() for n in names}
    # building blocks, like mmseg's unregistered helpers
    helpers = {'SELearningToDownsample', 'SegAccuracyMixin'}
    assert public - helpers <= expected
