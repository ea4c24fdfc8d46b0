# The shipped recipe (with the training-only extent head) plus a skip
# connection at 1/4: the learning-to-downsample module's 1/4 map (48
# channels) is reduced by a 1x1 conv to 16 channels and concatenated into
# the decode head's x2 up stage, so the lesions' edges are placed with the
# stem's features instead of by interpolating the 1/8 map.
# The backbone returns the 1/4 map last; the neck passes it through after
# the fused map, so every head's in_index is unchanged (the 1/4 map is
# index 5).
_base_ = ['./efficient_mtnet_1xb8-boxaux-45e_brain-tumor-320x320.py']
model = dict(
    backbone=dict(out_quarter=True),
    neck=dict(num_passthrough=1),
    decode_head=dict(
        up_skips=(dict(in_index=5, in_channels=48, channels=16), )))
