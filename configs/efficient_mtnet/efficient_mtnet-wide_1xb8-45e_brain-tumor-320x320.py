# Lever of issue 20 (capacity): the shipped recipe
# (efficient_mtnet_1xb8-45e_brain-tumor-320x320.py) with a wider network
# built from the same modules, everything else unchanged (seed, schedule,
# augmentation, losses).
#
# Widths: stages (64, 96, 128) -> (64, 160, 256), neck laterals 32 -> 48,
# classification Hamburger 128 -> 256 channels and FC 256 -> 128 -> 2.
# The 1/8 part (learning-to-downsample, stage 1, fused map, decode head)
# keeps its width: it holds most of the multiply-adds, while the 1/32 stages
# hold most of the parameters.
# tools/analysis_tools/get_flops.py at 640x640: 3.849 M parameters at
# inference (1.353 M for the recipe), 2.171 G multiply-adds = 4.34 GFLOPs
# (1.291 G = 2.58 GFLOPs). The "about 4 M parameters and 3.2 GFLOPs"
# cannot both hold in this topology: at 640x640 a parameter of a 1/32 stage
# costs 400 multiply-adds, so 2.5 M more parameters cost ~0.9 G MACs.
# Checkpoints are selected on tumor Dice and accuracy together
# (multi_task/score), as in the recipe.
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
