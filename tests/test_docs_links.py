"""Every relative link of the README, docs/ and the configs' READMEs
resolves (files, and #anchors to a heading of the target)."""
import glob
import os.path as osp
import re

import pytest

from .conftest import REPO

PAGES = [osp.join(REPO, 'README.md')] + sorted(
    glob.glob(osp.join(REPO, 'docs', '*.md')) +
    glob.glob(osp.join(REPO, 'configs', '*', 'README.md')))
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')


def _anchors(md_file):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to
    dashes."""
    out = set()
    for line in open(md_file, encoding='utf-8'):
        m = re.match(r'^#{1,6} (.+)', line)
        if m:
            text = re.sub(r'[^\w\- ]', '', m.group(1).strip().lower())
            out.add(text.replace(' ', '-'))
    return out


def _links(page):
    text = open(page, encoding='utf-8').read()
    text = re.sub(r'```.*?```', '', text, flags=re.S)  # code blocks
    return [t for t in LINK.findall(text) if '://' not in t
            and not t.startswith('mailto:')]


@pytest.mark.parametrize('page', PAGES,
                         ids=[osp.relpath(p, REPO) for p in PAGES])
def test_relative_links_resolve(page):
    for target in _links(page):
        path, _, anchor = target.partition('#')
        full = osp.normpath(osp.join(osp.dirname(page), path)) if path \
            else page
        assert osp.exists(full), f'{osp.relpath(page, REPO)}: {target}'
        if anchor and full.endswith('.md'):
            assert anchor in _anchors(full), \
                f'{osp.relpath(page, REPO)}: no heading #{anchor} in {path}'


def test_readme_is_the_short_way_in():
    assert osp.getsize(osp.join(REPO, 'README.md')) <= 12000
    assert len(PAGES) >= 8
