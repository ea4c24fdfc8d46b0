"""Lay out the Roboflow "TumorSegmentation" COCO export where the configs
read it (data/brain-tumor-coco/{train,valid,test}).

    python tools/dataset_converters/brain_tumor_coco.py DOWNLOAD \
        [--out data/brain-tumor-coco] [--force]

DOWNLOAD is the zip from Roboflow Universe or Kaggle ("Brain Tumor Image
DataSet: Semantic Segmentation"), or the folder it unpacks to. The split
folders (each with its images and ``_annotations.coco.json``) are found at
any depth; ``train/`` and ``valid/`` are required, ``test/`` is copied when
present. Every annotation file must parse and every image it lists must be
there: an archive that is not a zip, holds no such export, or lacks images
stops with one error naming the file at fault, and nothing is written.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
import tempfile
import zipfile

ANN = '_annotations.coco.json'
REQUIRED = ('train', 'valid')
SPLITS = ('train', 'valid', 'test')


class ConversionError(Exception):
    """What is wrong with the download, naming the file."""


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('download', help='the export: a .zip or its folder')
    p.add_argument('--out', default='data/brain-tumor-coco',
                   help='where the splits go (default: data/brain-tumor-coco, '
                   'the configs\' data root)')
    p.add_argument('--force', action='store_true',
                   help='replace splits already in --out')
    return p.parse_args(argv)


def find_splits(root: str) -> dict:
    """``{split: folder}`` of the split folders under ``root`` that hold an
    annotation file; the shallowest wins, two at one depth is an error."""
    found = {}
    for folder, _, files in os.walk(root):
        name = osp.basename(folder)
        if name in SPLITS and ANN in files:
            depth = osp.relpath(folder, root).count(os.sep)
            if name in found and found[name][0] == depth:
                raise ConversionError(
                    f'{root} holds two {name}/ splits: {found[name][1]} and '
                    f'{folder}; pass the folder of one export')
            if name not in found or depth < found[name][0]:
                found[name] = (depth, folder)
    missing = [s for s in REQUIRED if s not in found]
    if missing:
        raise ConversionError(
            f'{root} is not the Roboflow COCO export: no '
            f'{" or ".join(f"{s}/{ANN}" for s in missing)} in it')
    return {name: folder for name, (_, folder) in found.items()}


def check_split(folder: str) -> int:
    """The number of images of a split; a ``ConversionError`` names an
    unreadable annotation file or the first missing image."""
    ann = osp.join(folder, ANN)
    try:
        with open(ann, encoding='utf-8-sig') as f:
            coco = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConversionError(f'{ann} is not readable COCO JSON: {e}')
    images = coco.get('images') if isinstance(coco, dict) else None
    if not isinstance(images, list) or not images:
        raise ConversionError(f'{ann} lists no images')
    missing = [
        i.get('file_name') for i in images
        if not osp.isfile(osp.join(folder, str(i.get('file_name'))))
    ]
    if missing:
        raise ConversionError(
            f'{ann} lists {len(missing)} images that are not in {folder}, '
            f'e.g. {missing[0]}')
    return len(images)


def convert(download: str, out: str, force: bool = False) -> dict:
    """Check the export in ``download`` (zip or folder) and copy its splits
    to ``out``; returns ``{split: number of images}``."""
    if not osp.exists(download):
        raise ConversionError(f'{download} not found')
    with tempfile.TemporaryDirectory() as tmp:
        root = download
        if osp.isfile(download):
            try:
                with zipfile.ZipFile(download) as z:
                    z.extractall(tmp)
            except zipfile.BadZipFile as e:
                raise ConversionError(f'{download} is not a zip archive: {e}')
            root = tmp
        splits = find_splits(root)
        counts = {name: check_split(folder) for name, folder in splits.items()}
        for name in sorted(splits):
            if osp.exists(osp.join(out, name)) and not force:
                raise ConversionError(
                    f'{osp.join(out, name)} exists; --force replaces it')
        for name, folder in sorted(splits.items()):
            dst = osp.join(out, name)
            tmp_dst = f'{dst}.tmp{os.getpid()}'  # never a half-copied split
            shutil.rmtree(tmp_dst, ignore_errors=True)
            shutil.copytree(folder, tmp_dst)
            if osp.exists(dst):
                shutil.rmtree(dst)
            os.replace(tmp_dst, dst)
    return counts


def main(argv=None):
    args = parse_args(argv)
    try:
        counts = convert(args.download, args.out, args.force)
    except ConversionError as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
    print(', '.join(f'{name}/ {n} images' for name, n in sorted(counts.items()))
          + f' -> {args.out}')
    if 'test' not in counts:
        print('no test/ split in this export: tools/test.py needs '
              '--cfg-options test_dataloader.dataset.ann_file='
              'valid/_annotations.coco.json '
              'test_dataloader.dataset.data_prefix.img_path=valid')
    return counts


if __name__ == '__main__':
    main()
