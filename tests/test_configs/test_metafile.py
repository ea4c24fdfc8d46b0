"""configs/*/metafile.yaml against the repository and the zoo README."""
import glob
import hashlib
import os.path as osp
import re

import pytest
import yaml

from ..conftest import REPO

METAFILES = sorted(glob.glob(osp.join(REPO, 'configs', '*', 'metafile.yaml')))


def _readme_rows(readme):
    """{config file name: row cells} of the 'Results and models' table."""
    rows = {}
    for line in open(readme, encoding='utf-8'):
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        m = re.match(r'\[([^\]]+\.py)\]', cells[0]) if cells else None
        if m:
            rows[m.group(1)] = cells
    return rows


@pytest.mark.parametrize('metafile', METAFILES,
                         ids=[osp.basename(osp.dirname(m)) for m in METAFILES])
def test_metafile_matches_repository_and_readme(metafile):
    meta = yaml.safe_load(open(metafile))
    (collection, ) = meta['Collections']
    readme = osp.join(REPO, collection['README'])
    assert osp.isfile(readme)
    header = None
    for line in open(readme, encoding='utf-8'):
        if line.startswith('| config |'):
            header = [c.strip() for c in line.strip().strip('|').split('|')]
    rows = _readme_rows(readme)
    assert header is not None and rows
    col = {name: i for i, name in enumerate(header)}
    assert set(rows) == {osp.basename(m['Config']) for m in meta['Models']}
    for model in meta['Models']:
        assert model['In Collection'] == collection['Name']
        assert set(model) >= {'Name', 'In Collection', 'Config', 'Metadata',
                              'Results'}
        cfg = osp.join(REPO, model['Config'])
        assert osp.isfile(cfg), cfg
        assert model['Name'] == osp.splitext(osp.basename(cfg))[0]
        row = rows[osp.basename(cfg)]
        results = {m_: v for r in model['Results']
                   for m_, v in r['Metrics'].items()}
        assert float(row[col['valid tumor Dice']]) == results['tumor Dice']
        assert float(row[col['valid tumor IoU']]) == results['tumor IoU']
        if 'Top 1 Accuracy' in results:
            assert float(row[col['valid accuracy']]) == \
                results['Top 1 Accuracy']
        else:  # a segmentation-only model says so rather than a blank
            assert row[col['valid accuracy']] == '- (segments only)'
        md = model['Metadata']
        assert row[col['params']] == f"{md['Parameters (M)']:.3f} M"
        assert row[col['MACs']] == f"{md['MACs (G)']:.3f} G"
        assert row[col['train res.']].replace('×', 'x') == md['Input Size']
        weights = model.get('Weights')
        if weights is None:
            assert row[col['weights']] == '-'
            continue
        path = osp.join(REPO, weights)
        assert osp.isfile(path), path
        sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
        prefix = re.search(r'-([0-9a-f]{8})\.pth$', weights).group(1)
        assert sha.startswith(prefix), (weights, sha[:8])
        assert row[col['weights']] == f'`{osp.basename(weights)}`'


ZOO_READMES = sorted(glob.glob(osp.join(REPO, 'configs', '*', 'README.md')))


@pytest.mark.parametrize('readme', ZOO_READMES,
                         ids=[osp.basename(osp.dirname(r)) for r in ZOO_READMES])
def test_zoo_readme_has_mmsegs_shape(readme):
    """Title, Abstract, Results and models, Citation (with BibTeX), and
    short: history and ablations live in docs/."""
    text = open(readme, encoding='utf-8').read()
    assert len(text.encode()) <= 10 * 1024, f'{len(text.encode())} bytes'
    assert text.startswith('# ')
    heads = re.findall(r'^## (.+)$', text, flags=re.M)
    for needed in ('Abstract', 'Results and models', 'Citation'):
        assert needed in heads, heads
    assert heads.index('Abstract') < heads.index('Results and models') < \
        heads.index('Citation')
    citation = text.split('## Citation', 1)[1]
    entries = re.findall(r'@\w+\{(\w+),', citation)
    assert entries and all(
        re.search(r'title=\{[^}]+', e) for e in citation.split('@')[1:])
