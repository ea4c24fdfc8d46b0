default_scope = 'mmseg'
custom_imports = dict(imports=['mtnet_plugin'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # gloo works on CPU and GPU; tools/train.py switches to nccl on GPUs.
    dist_cfg=dict(backend='gloo'),
)
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
tta_model = dict(type='MultiTaskTTAModel')  # tools/test.py --tta
