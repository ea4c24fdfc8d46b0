"""EfficientMTNet: an MMSegmentation 1.x plugin for joint brain-tumor
segmentation and classification."""
import os.path as osp
import re

from setuptools import find_packages, setup


def parse_requirements(fname):
    """Read a requirements file, following ``-r`` includes."""
    reqs = []
    path = osp.join(osp.dirname(osp.abspath(__file__)), fname)
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line.startswith('-r'):
                reqs += parse_requirements(
                    osp.join(osp.dirname(fname), line[2:].strip()))
            elif line and not line.startswith('-'):
                reqs.append(line)
    return reqs


def get_version():
    with open(osp.join(osp.dirname(__file__), 'mtnet_plugin', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


setup(
    name='efficient-mtnet',
    version=get_version(),
    description='EfficientMTNet: real-time joint brain-tumor segmentation '
    'and classification as an MMSegmentation 1.x plugin',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    package_data={
        'mtnet_plugin.webdemo': [
            'index.html', 'browser/index.html', 'browser/app.js',
            'browser/package.json', 'browser/package-lock.json'
        ]
    },
    python_requires='>=3.8',
    # torch is installed separately (CPU or CUDA build of the user's choice).
    install_requires=parse_requirements('requirements/runtime.txt') +
    parse_requirements('requirements/mminstall.txt'),
    extras_require=dict(
        tests=parse_requirements('requirements/tests.txt'),
        deploy=parse_requirements('requirements/deploy.txt'),
        demo=parse_requirements('requirements/demo.txt'),
        medical=parse_requirements('requirements/medical.txt'),
        albu=parse_requirements('requirements/albu.txt'),
        optional=parse_requirements('requirements/optional.txt')),
    zip_safe=False)
