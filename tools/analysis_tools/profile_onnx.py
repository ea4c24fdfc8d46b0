"""Where an ONNX model's time goes in onnxruntime: share of node time per
operator type and the slowest nodes (onnxruntime's own profiler).

    python tools/analysis_tools/profile_onnx.py MODEL.onnx --shape 320 320 \
        [--threads 2] [--runs 60] [--top 12]

Runs the model on a random (1, 3, H, W) batch ``--runs`` times after one
warm-up call; the figures are per run. A dynamic export takes any shape; a
static one only its own.
"""
import argparse
import collections
import json
import os
import tempfile

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('onnx')
    p.add_argument('--shape', type=int, nargs=2, default=[320, 320])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--runs', type=int, default=60)
    p.add_argument('--top', type=int, default=12)
    return p.parse_args(argv)


def profile(onnx_file, shape, threads=2, runs=60):
    """{'total_ms', 'by_op': {op: ms}, 'by_node': {node: ms}} per run."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    with tempfile.TemporaryDirectory() as tmp:
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(tmp, 'profile')
        session = ort.InferenceSession(onnx_file, opts,
                                       providers=['CPUExecutionProvider'])
        name = session.get_inputs()[0].name
        x = np.random.RandomState(0).randn(1, 3, *shape).astype(np.float32)
        session.run(None, {name: x})  # warm-up, profiled too: dropped below
        for _ in range(runs):
            session.run(None, {name: x})
        events = json.load(open(session.end_profiling()))
    nodes = [e for e in events if e.get('cat') == 'Node'
             and e['name'].endswith('_kernel_time')]
    # the first call's nodes are the warm-up: keep the last `runs` calls
    per_call = len(nodes) // (runs + 1)
    nodes = nodes[per_call:]
    by_op, by_node = collections.Counter(), collections.Counter()
    for e in nodes:
        by_op[e['args'].get('op_name', '?')] += e['dur'] / 1000 / runs
        by_node[e['name'][:-len('_kernel_time')]] += e['dur'] / 1000 / runs
    return dict(total_ms=sum(by_op.values()), by_op=dict(by_op),
                by_node=dict(by_node))


def main(argv=None):
    args = parse_args(argv)
    p = profile(args.onnx, args.shape, args.threads, args.runs)
    total = p['total_ms']
    print(f'{args.onnx} at {args.shape[0]}x{args.shape[1]}, {args.threads} '
          f'threads: {total:.2f} ms of node time per run')
    for op, ms in sorted(p['by_op'].items(), key=lambda kv: -kv[1]):
        if ms / total >= 0.005:
            print(f'  {op:24s} {100 * ms / total:5.1f} %  {ms:.3f} ms')
    print('slowest nodes:')
    for node, ms in sorted(p['by_node'].items(),
                           key=lambda kv: -kv[1])[:args.top]:
        print(f'  {node[:72]:72s} {100 * ms / total:5.1f} %')
    return p


if __name__ == '__main__':
    main()
