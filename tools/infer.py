"""Segment and classify images: an overlay per image and one JSON file.

    python tools/infer.py INPUT --config CONFIG --checkpoint CKPT \
        --out-dir work_dirs/infer
        [--backend auto|pytorch|compile|onnxruntime|onnxruntime-int8]
        [--onnx FILE] [--calib-images DIR] [--num-calib N] [--batch-size 8] [--device cuda] [--jsonl]
        [--series-uid UID] [--tta] [--strict] [--save-masks]

INPUT is an image (JPEG, PNG, 16-bit PNG), a DICOM file, a NIfTI file
(.nii, .nii.gz), a folder holding one DICOM series, or a folder of such
files. Records carry ``pixel_spacing_mm`` and ``tumor_area_mm2`` (null
without spacing). A volume (DICOM series, multi-frame DICOM, 3D NIfTI) gets
an overlay per slice (``<name>_s<k>_overlay.png``), a summary record under
``volumes`` (volume in mL, slices with tumor, the volume's class, the
per-slice records) and ``<name>_mask.nii.gz``: the mask with the input's
shape and affine, which 3D Slicer and ITK-SNAP lay over the scan. With
``--save-masks`` each 2D image's mask is also written as
``<name>_mask.png`` (0 background, 255 tumor, the image's size), named in
its record under ``mask_png``.

A folder runs in batches of ``--batch-size`` while threads read the next
images and write the overlays. Unreadable files are reported, counted and
skipped; the run goes on. The exit status is 1 when no input could be read
(the results file still lists the skipped ones), or with ``--strict`` when
any was skipped; 0 otherwise. ``--backend auto`` (the default) picks the fastest
installed backend (onnxruntime on CPU, exported once and cached beside the
checkpoint; see ``default_backend`` for when it picks int8).
``onnxruntime-int8`` quantizes that export once, calibrated on the config's
training images (or ``--calib-images``), and caches it beside it.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import cv2

from mtnet_plugin.apis import BACKENDS, TumorInferencer
from mtnet_plugin.apis.tumor_inferencer import RECORD_KEYS, SLICE_KEYS
from mtnet_plugin.datasets.medical_volume import write_mask_nifti
from mtnet_plugin.engine.hooks import draw_overlay
from mtnet_plugin.utils.progress import progress


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('inputs', help='an image file or a folder of images')
    p.add_argument('--config', required=True)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--device', default='cpu')
    p.add_argument('--backend', default='auto', choices=('auto', ) + BACKENDS,
                   help='auto: onnxruntime on CPU when installed (int8 where '
                   'validated), else pytorch')
    p.add_argument('--onnx', default=None,
                   help='exported .onnx for the onnxruntime backends (an '
                   'int8 one for onnxruntime-int8; default: export once, '
                   'cached beside the checkpoint)')
    p.add_argument('--calib-images', default=None,
                   help='onnxruntime-int8: folder of images to calibrate on '
                   '(default: the config\'s training images)')
    p.add_argument('--num-calib', type=int, default=None,
                   help='onnxruntime-int8: calibration images (default 64)')
    p.add_argument('--precision', default='fp32',
                   choices=('fp32', 'fp16', 'bf16'),
                   help='autocast precision of the PyTorch backends')
    p.add_argument('--compile-mode', default='default',
                   choices=('default', 'reduce-overhead', 'max-autotune'),
                   help='torch.compile mode (reduce-overhead: CUDA graphs)')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--num-workers', type=int, default=2,
                   help='threads that read images and write overlays')
    p.add_argument('--threads', type=int, default=None,
                   help='CPU threads of torch / onnxruntime')
    p.add_argument('--no-overlays', action='store_true',
                   help='write the JSON only')
    p.add_argument('--tta', action='store_true',
                   help='test-time augmentation: average the image and its '
                   'horizontal flip (as tools/test.py --tta; twice the '
                   'compute)')
    p.add_argument('--series-uid', default=None,
                   help='for a DICOM folder holding several series: the '
                   'SeriesInstanceUID to read (default: the largest; the '
                   'others are listed)')
    p.add_argument('--strict', action='store_true',
                   help='exit with status 1 if any input was skipped '
                   '(default: only if every input was)')
    p.add_argument('--save-masks', action='store_true',
                   help='write each 2D image\'s mask as <name>_mask.png '
                   '(0/255, the image\'s size) beside its overlay; volumes '
                   'always get <name>_mask.nii.gz')
    p.add_argument('--jsonl', action='store_true',
                   help='write results.jsonl (one line per image) instead '
                   'of results.json')
    args = p.parse_args(argv)
    if args.onnx is not None and not osp.isfile(args.onnx):
        p.error(f'ONNX file not found: {args.onnx}')
    if args.onnx is not None and args.backend == 'auto':
        from mtnet_plugin.apis.onnx_quantize import is_quantized
        try:
            quantized = is_quantized(args.onnx)
        except Exception as e:  # protobuf's DecodeError of a cut file
            p.error(f'cannot read ONNX file {args.onnx}: '
                    f'{" ".join(str(e).split())[:200]}')
        args.backend = 'onnxruntime-int8' if quantized else 'onnxruntime'
    if args.onnx is not None and not args.backend.startswith('onnxruntime'):
        p.error('--onnx is run by the onnxruntime backends')
    if (args.calib_images or args.num_calib) and \
            args.backend != 'onnxruntime-int8':
        p.error('--calib-images and --num-calib are for --backend '
                'onnxruntime-int8')
    return args


def stem(path):
    """File name without its extension(s): 'a.nii.gz' -> 'a'; a series
    folder's own name."""
    name = osp.basename(osp.normpath(path))
    if name.lower().endswith('.nii.gz'):
        return name[:-7]
    return osp.splitext(name)[0]


def overlay_name(res):
    if res.get('num_slices', 1) > 1:
        return f'{stem(res["path"])}_s{res["slice_index"]:03d}_overlay.png'
    return stem(res['path']) + '_overlay.png'


def write_overlay(res, out_dir, class_names):
    overlay = draw_overlay(
        res['image'], res['mask'], None, res['class_index'],
        res['class_probs'][res['class_index']], class_names=class_names)
    name = overlay_name(res)
    # fast PNG compression: the overlays must not slow the folder down
    cv2.imwrite(osp.join(out_dir, name), overlay,
                [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return name


def write_mask_png(res, out_dir):
    """The mask as an 8-bit PNG: 0 background, 255 tumor."""
    name = stem(res['path']) + '_mask.png'
    mask = (res['mask'] > 0).astype('uint8') * 255
    cv2.imwrite(osp.join(out_dir, name), mask)
    return name


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    inferencer = TumorInferencer(
        args.config, args.checkpoint, args.device, backend=args.backend,
        onnx_file=args.onnx, precision=args.precision,
        compile_mode=args.compile_mode, num_workers=args.num_workers,
        series_uid=args.series_uid, tta=args.tta,
        int8_options={
            k: v for k, v in dict(calib_images=args.calib_images,
                                  num_calib=args.num_calib).items()
            if v is not None
        } or None)
    os.makedirs(args.out_dir, exist_ok=True)
    files = TumorInferencer.list_images(args.inputs) if osp.isdir(
        args.inputs) else [args.inputs]
    print(f'{len(files)} inputs, backend {inferencer.backend.name}, batch '
          f'{args.batch_size}', file=sys.stderr)
    records, failed, volumes, futures = [], [], [], deque()
    slices = []  # results of the volume being read
    # a bar on a terminal, a line per 10 % in a log
    bar = progress(len(files), sys.stderr, 'inputs') if len(files) > 1 \
        else None
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max(1, args.num_workers)) as writer:
        for res in inferencer.iter_results(
                files, args.batch_size, skip_errors=True,
                keep_image=not args.no_overlays):
            if 'error' in res:  # unreadable or undecodable: skip, report
                failed.append(res)
                print(f'\nskipped {res["path"]}: {res["error"]}',
                      file=sys.stderr)
            else:
                record = {k: res[k] for k in RECORD_KEYS}
                if not args.no_overlays:
                    record['overlay'] = overlay_name(res)
                    futures.append(
                        writer.submit(write_overlay, res, args.out_dir,
                                      inferencer.cls_classes))
                    while len(futures) > 4 * max(1, args.num_workers):
                        futures.popleft().result()  # bound the queue
                if res.get('num_slices', 1) > 1:  # a slice of a volume
                    record.update({k: res[k] for k in SLICE_KEYS})
                    slices.append((res, record))
                    if len(slices) < res['num_slices']:
                        continue  # the progress bar counts inputs
                    volumes.append(
                        finish_volume(inferencer, slices, args.out_dir))
                    slices = []
                else:
                    if args.save_masks:
                        record['mask_png'] = stem(res['path']) + '_mask.png'
                        futures.append(
                            writer.submit(write_mask_png, res, args.out_dir))
                    records.append(record)
            if bar is not None:
                bar.update()
        for future in futures:
            future.result()  # raise a failed write here
    elapsed = time.perf_counter() - t0
    if args.jsonl:
        out = osp.join(args.out_dir, 'results.jsonl')
        with open(out, 'w') as f:
            # skipped ones carry 'error', volumes 'num_slices' and 'slices'
            for r in records + volumes + failed:
                f.write(json.dumps(r) + '\n')
    else:
        out = osp.join(args.out_dir, 'results.json')
        with open(out, 'w') as f:
            json.dump(dict(results=records, volumes=volumes, skipped=failed),
                      f, indent=2)
    n_images = len(records) + sum(v['num_slices'] for v in volumes)
    peak_mib = peak_rss_mib()
    print(f'\n{len(records)} images and {len(volumes)} volumes done, '
          f'{len(failed)} skipped in {elapsed:.1f} s '
          f'({n_images / max(elapsed, 1e-9):.1f} images/s, a volume\'s '
          f'slices counted; peak RSS {peak_mib:.0f} MiB); results in {out}',
          file=sys.stderr)
    return dict(images=len(records), volumes=len(volumes),
                skipped=len(failed), seconds=elapsed, out=out,
                peak_rss_mib=peak_mib, strict=args.strict)


def exit_status(summary: dict) -> int:
    """1 if nothing was produced, or (``--strict``) if anything was
    skipped; else 0."""
    done = summary['images'] + summary['volumes']
    if done == 0 or (summary['strict'] and summary['skipped']):
        print(f'error: {summary["skipped"]} of '
              f'{done + summary["skipped"]} inputs could not be read '
              f'(listed under "skipped" in {summary["out"]})',
              file=sys.stderr)
        return 1
    return 0


def cli(argv=None) -> int:
    """``main`` as a command: a checkpoint or ONNX file that does not fit
    ends in one error line and status 1, not a traceback."""
    from mtnet_plugin.utils import CheckpointMismatchError
    try:
        return exit_status(main(argv))
    except (CheckpointMismatchError, FileNotFoundError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux: ru_maxrss in KiB;
    macOS: bytes)."""
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == 'darwin' else 1024)


def finish_volume(inferencer, slices, out_dir):
    """The volume's summary record, with its slices' records, and its mask
    as ``<name>_mask.nii.gz`` over the scan."""
    results = [res for res, _ in slices]
    volume = results[0]['volume']
    summary = inferencer.summarize_volume(volume, results)
    summary['slices'] = [record for _, record in slices]
    name = stem(volume.path) + '_mask.nii.gz'
    write_mask_nifti(volume, [r['mask'] for r in results],
                     osp.join(out_dir, name))
    summary['mask_nifti'] = name
    return summary


if __name__ == '__main__':
    sys.exit(cli())
