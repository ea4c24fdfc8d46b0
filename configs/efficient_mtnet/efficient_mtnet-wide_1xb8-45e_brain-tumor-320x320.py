# The 320x320 recipe with a wider network of the same modules: stages
# (64, 160, 256), neck laterals 48, classification Hamburger 256 and FC
# 256 -> 128 -> 2; the 1/8 part keeps its width. 3.849 M parameters and
# 2.171 G multiply-adds at 640x640 (the recipe: 1.353 M, 1.291 G); valid
# tumor Dice 76.38 / 76.02 on seeds 0 / 1 (docs/ablations.md).
_base_ = ['./efficient_mtnet_1xb8-45e_brain-tumor-320x320.py']
stage_channels = (64, 160, 256)
model = dict(
    backbone=dict(stage_channels=stage_channels),
    neck=dict(in_channels=[64, *stage_channels], lateral_channels=48),
    # the recipe's FCN heads on the wider stages (a list in a child config
    # replaces the base's list, so both are restated from it)
    auxiliary_head=[
        dict(_base_.model.auxiliary_head[0], in_channels=stage_channels[0]),
        dict(_base_.model.auxiliary_head[1], in_channels=stage_channels[1]),
    ],
    cls_head=dict(
        in_channels=stage_channels[2],
        ham_channels=stage_channels[2],
        mid_channels=(stage_channels[2] // 2, )))
