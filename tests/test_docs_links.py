"""Every relative link of the README, docs/ and the configs' READMEs
resolves (files, and #anchors to a heading of the target)."""
import glob
import os.path as osp
import re

import pytest

from .conftest import REPO

PAGES = [osp.join(REPO, f) for f in ('README.md', 'CHANGELOG.md')] + sorted(
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


TOOL_FLAG = re.compile(r"""add_argument\(\s*(?:'[^']*',\s*)*'(--[\w-]+)'""")
PATH_IN_CODE = re.compile(
    r'^(?:\./)?((?:configs|tools|docs|checkpoints|mtnet_plugin|tests|'
    r'requirements)/[\w./-]+)$')


def _tool_flags(tool):
    """The ``--flags`` a script under tools/ declares (read from its
    source; every tool uses argparse's add_argument)."""
    src = open(osp.join(REPO, 'tools', tool), encoding='utf-8').read()
    flags = set(TOOL_FLAG.findall(src))
    # aliases: add_argument('--local_rank', '--local-rank', ...)
    for m in re.finditer(r'add_argument\(([^)]*)\)', src, flags=re.S):
        flags |= set(re.findall(r"'(--[\w-]+)'", m.group(1)))
    return flags | {'--help'}


def _command_lines(page):
    """Shell lines of a page (code blocks and inline code), with
    backslash continuations joined."""
    text = open(page, encoding='utf-8').read()
    blocks = re.findall(r'```[^\n]*\n(.*?)```', text, flags=re.S)
    inline = re.findall(r'`([^`\n]+)`', re.sub(r'```.*?```', '', text,
                                               flags=re.S))
    lines = []
    for block in blocks:
        lines += block.replace('\\\n', ' ').splitlines()
    return lines + inline


@pytest.mark.parametrize('page', PAGES,
                         ids=[osp.relpath(p, REPO) for p in PAGES])
def test_flags_of_the_tools_named_exist(page):
    """`python tools/X.py ... --flag`: X exists and declares --flag."""
    bad = []
    for line in _command_lines(page):
        line = line.split('#', 1)[0]
        for segment in re.split(r';|&&|\|', line):
            m = re.search(r'(?<![\w/])tools/([\w/]+\.py)(.*)', segment)
            if not m:
                continue
            tool, rest = m.groups()
            if not osp.isfile(osp.join(REPO, 'tools', tool)):
                bad.append(f'tools/{tool} does not exist')
                continue
            flags = _tool_flags(tool)
            bad += [f'tools/{tool} has no {f}'
                    for f in re.findall(r'(?<![\w-])(--[a-z][\w-]*)', rest)
                    if f not in flags]
    assert not bad, f'{osp.relpath(page, REPO)}: {sorted(set(bad))}'


@pytest.mark.parametrize('page', PAGES,
                         ids=[osp.relpath(p, REPO) for p in PAGES])
def test_files_named_in_backticks_exist(page):
    """`configs/...`, `tools/...`, `checkpoints/...` and config names in
    inline code name files that exist (placeholders in capitals, <> or *
    are not files)."""
    text = re.sub(r'```.*?```', '', open(page, encoding='utf-8').read(),
                  flags=re.S)
    configs = {osp.basename(p) for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)}
    bad = []
    for span in re.findall(r'`([^`\n]+)`', text):
        for token in span.split():
            token = token.rstrip('.,;:)')
            if re.search(r'[<>*{$]', token) or (
                    re.search(r'(^|/)[A-Z][A-Z0-9_]*(/|\.|$)', token) and
                    not re.search(r'README|LICENSE', token)):
                continue  # a placeholder: CFG, OUT/x.json, <name>, *.pth
            m = PATH_IN_CODE.match(token)
            if m and not osp.exists(osp.join(REPO, m.group(1))):
                bad.append(token)
            elif '/' not in token and re.match(
                    r'^[\w.-]+_brain-tumor[\w.-]*\.py$|^efficient_mtnet[\w.-]*\.py$',
                    token) and token not in configs:
                bad.append(token)
    assert not bad, f'{osp.relpath(page, REPO)}: {sorted(set(bad))}'


def test_the_checks_catch_a_dead_name(tmp_path):
    page = tmp_path / 'p.md'
    page.write_text('`python tools/analysis_tools/benchmark.py CFG '
                    '--precision fp16` and `configs/README`\n')
    with pytest.raises(AssertionError, match='has no --precision'):
        test_flags_of_the_tools_named_exist(str(page))
    with pytest.raises(AssertionError, match='configs/README'):
        test_files_named_in_backticks_exist(str(page))
