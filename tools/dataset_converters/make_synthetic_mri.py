"""Write a synthetic brain-MRI tumor dataset in the Roboflow COCO layout.

Example:
    python tools/dataset_converters/make_synthetic_mri.py data/synthetic_mri \
        --train 400 --valid 100 --test 200 --size 256 --seed 0
"""
import argparse
import time

from mtnet_plugin.datasets.synthetic_mri import DEFAULT_SPLITS, \
    generate_dataset


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out_dir', help='root folder; train/valid/test go inside')
    for split, n in DEFAULT_SPLITS.items():
        p.add_argument(f'--{split}', type=int, default=n,
                       help=f'images in {split}/ (default {n})')
    p.add_argument('--size', type=int, default=256, help='image side')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--tumor-free-ratio', type=float, default=0.0,
                   help='fraction of slices without lesion (presence mode)')
    p.add_argument('--bom', action='store_true',
                   help='write the JSON with a UTF-8 BOM, like Roboflow')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.perf_counter()
    splits = {s: getattr(args, s) for s in DEFAULT_SPLITS}
    out = generate_dataset(args.out_dir, splits, args.size, args.seed,
                           args.tumor_free_ratio, args.bom)
    n = sum(len(c['images']) for c in out.values())
    counts = ', '.join(f'{k}: {len(v["images"])}' for k, v in out.items())
    print(f'wrote {n} images ({counts}) to {args.out_dir} in '
          f'{time.perf_counter() - t0:.1f} s')


if __name__ == '__main__':
    main()
