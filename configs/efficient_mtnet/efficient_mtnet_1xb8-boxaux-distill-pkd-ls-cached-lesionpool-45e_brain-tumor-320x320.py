# The 45-epoch distilled, label-smoothed recipe with cached teacher logits
# (efficient_mtnet_1xb8-boxaux-distill-pkd-ls-cached-45e_brain-tumor-320x320.py)
# whose class head also reads the lesion: the neck's fused 1/8 map (128
# channels, the map the decode head segments) is averaged under the decode
# head's lesion probability (1 - P(background), detached) and concatenated
# to the Hamburger's global average of the deepest map. The two image
# classes are two lesion types: the lesion's own appearance decides, and a
# global average over the slice dilutes it, above all for small lesions.
# No new parameter beyond 128 inputs to the first FC (8,192 weights);
# inference adds a softmax and a weighted average.
# The weights kept are the last epoch's EMA (the rule of the base config).
_base_ = [
    './efficient_mtnet_1xb8-boxaux-distill-pkd-ls-cached-45e_brain-tumor-320x320.py'
]
model = dict(
    cls_head=dict(lesion_in_index=(4, ), lesion_in_channels=(128, )))
