"""Write small synthetic labelled volumes in the Medical Segmentation
Decathlon layout (dataset.json, imagesTr/, labelsTr/, imagesTs/, labelsTs/).

    python tools/dataset_converters/make_synthetic_msd.py data/synthetic_msd \
        [--train 20] [--test 2] [--shape 64 64 24] [--modalities FLAIR T1w t1gd T2w]
        [--no-test-labels] [--seed 0]
"""
import argparse

from mtnet_plugin.datasets.synthetic_msd import MODALITIES, generate_msd_task


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('out_dir')
    p.add_argument('--train', type=int, default=20)
    p.add_argument('--test', type=int, default=2)
    p.add_argument('--shape', type=int, nargs=3, default=(64, 64, 24))
    p.add_argument('--modalities', nargs='+', default=list(MODALITIES))
    p.add_argument('--no-test-labels', action='store_true',
                   help='no labelsTs/ (as the official MSD release)')
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    out = generate_msd_task(
        args.out_dir, args.train, args.test, tuple(args.shape),
        args.modalities, not args.no_test_labels, args.seed)
    print(f'{args.train} training and {args.test} test cases written to '
          f'{out}')


if __name__ == '__main__':
    main()
