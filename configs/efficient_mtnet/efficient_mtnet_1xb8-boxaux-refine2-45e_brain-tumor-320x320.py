# The shipped recipe (with the training-only extent head) plus two residual
# blocks on the neck's fused 1/8 map (depthwise 3x3 + linear 1x1 at 128
# channels, mmseg's InvertedResidual with expansion 1): after the fusion the
# 1/8 map carries the coarse stages' context, and these blocks let it place
# edges with that context over a wider window before the decode head, as
# DDRNet keeps a deep 1/8 branch after each context injection. Every head
# reads the same indices as in the shipped recipe.
_base_ = ['./efficient_mtnet_1xb8-boxaux-45e_brain-tumor-320x320.py']
model = dict(neck=dict(num_refine_blocks=2, refine_expand_ratio=1))
