"""The class names a config's data gives, for inference outputs."""
from mmengine.config import Config
from mmseg.registry import DATASETS

DEFAULT_METAINFO = dict(
    classes=('background', 'tumor'), cls_classes=('0', '1'))


def config_metainfo(cfg: Config) -> dict:
    """``classes`` and ``cls_classes`` as the config's data names them.

    Looked up, per key, in the config's top-level ``metainfo``, then the
    test, validation and training datasets' ``metainfo``, then the
    ``METAINFO`` of those datasets' classes (``CocoTumorDataset``: the
    export's categories '0'/'1'; ``MSDSliceDataset``: 'no tumor'/'tumor'),
    and last :data:`DEFAULT_METAINFO`. What ``TumorInferencer``,
    ``tools/infer.py`` and both web pages show.
    """
    sources = [cfg.get('metainfo', None) or {}]
    datasets = [
        (cfg.get(f'{split}_dataloader', None) or {}).get('dataset', None)
        for split in ('test', 'val', 'train')
    ]
    datasets = [d for d in datasets if d]
    sources += [d.get('metainfo', None) or {} for d in datasets]
    for d in datasets:
        dataset_type = d.get('type', None)
        cls = DATASETS.get(dataset_type) if isinstance(
            dataset_type, str) else dataset_type
        sources.append(getattr(cls, 'METAINFO', None) or {})
    sources.append(DEFAULT_METAINFO)
    out = {}
    for key in ('classes', 'cls_classes'):
        out[key] = tuple(next(s[key] for s in sources if s.get(key)))
    return out
