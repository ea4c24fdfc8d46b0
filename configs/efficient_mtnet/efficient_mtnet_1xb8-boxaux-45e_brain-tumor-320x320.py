# The shipped weights' config: the 320x320 recipe plus a training-only
# head on the fused 1/8 map that regresses each tumor cell's distances to
# the lesion's four edges with a GIoU loss (BoxExtentAuxHead, FCOS targets;
# the labels are rectangles). Inference is the recipe's network. valid
# tumor Dice 77.48, IoU 63.24, accuracy 99.30 (docs/ablations.md).
_base_ = ['./efficient_mtnet_1xb8-45e_brain-tumor-320x320.py']
model = dict(auxiliary_head=[
    # the recipe's two FCN heads (a list in a child config replaces the
    # base's list, so they are taken from it) and the extent head
    *_base_.model.auxiliary_head,
    dict(
        type='BoxExtentAuxHead',
        in_channels=128,
        in_index=4,
        channels=32,
        num_convs=1,
        loss_weight=0.2,
        loss_type='giou',
        norm_cfg=dict(type='BN', requires_grad=True)),
])
