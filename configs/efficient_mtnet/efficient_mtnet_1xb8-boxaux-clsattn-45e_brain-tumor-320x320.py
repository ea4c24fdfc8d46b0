# The shipped recipe (with the training-only extent head) whose class head
# also reads the neck's fused 1/8 map (128 channels), attention-pooled
# beside the Hamburger's average of the deepest 1/32 map: the two lesion
# categories differ in the lesion's own appearance (ring enhancement), which
# a global average over the slice dilutes, above all for small lesions.
# Adds 129 parameters and 128 inputs to the first FC (8,192 weights).
_base_ = ['./efficient_mtnet_1xb8-boxaux-45e_brain-tumor-320x320.py']
model = dict(
    cls_head=dict(extra_in_index=(4, ), extra_in_channels=(128, )))
