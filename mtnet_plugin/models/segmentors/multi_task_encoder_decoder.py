"""Encoder-decoder segmentor with an image-classification branch."""
from typing import Optional, Tuple

import torch
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import (ConfigType, OptConfigType, OptSampleList, SampleList,
                         add_prefix)
from torch import Tensor


@MODELS.register_module()
class MultiTaskEncoderDecoder(EncoderDecoder):
    """mmseg's ``EncoderDecoder`` plus a classification head on the shared
    features: one forward segments the tumor and classifies the image.

    .. code:: text

        loss():     extract_feat() -> decode_head.forward()   seg logits
                                        .loss_by_feat()       'decode.*'
                                   -> auxiliary_head.loss()   'aux_{i}.*'
                                   -> cls_head.loss()         'cls.*'
        predict():  extract_feat() -> decode_head.forward()   seg logits
                                        .predict_by_feat()    pred_sem_seg,
                                                               seg_logits
                                   -> cls_head() / T          pred_score,
                                                               pred_label
        _forward(): extract_feat() -> (seg logits, class logits / T)

    A class head that pools under the lesion (``HamClsHead`` with
    ``lesion_in_index``, its ``pools_lesion`` true) also receives
    ``lesion_prob`` (N, 1, h, w): one minus the softmax's background
    channel of the decode head's logits (the sigmoid of a one-channel
    head's), detached, so the class loss does not train the mask and the
    mask the class head sees at training is the one it sees at inference.

    Each term's weight is the ``loss_weight`` of its loss config (defaults
    of the design: segmentation 0.6, classification 0.4, auxiliary 0.4 in
    total); mmengine sums every key that contains ``loss``. The auxiliary
    heads run in training only.

    Args:
        cls_head (dict): Config of the classification head (e.g.
            :class:`HamClsHead`); it reads the image label from each
            ``SegDataSample``'s ``gt_label``.
        channels_last (bool): Keep weights and feature maps in NHWC
            (``torch.channels_last``) memory format; oneDNN convolutions
            on CPU and cuDNN with AMP on GPU run faster that way. Outputs
            are the same up to float rounding. Default: False.
        cls_temperature (float): Temperature T of the class logits at
            inference: ``predict`` and ``_forward`` (hence every inference
            backend and the ONNX export) return logits / T. Fitted on
            ``valid/`` after training by
            ``tools/analysis_tools/calibrate_temperature.py``, which stores
            it in the checkpoint (buffer ``cls_temperature``); a checkpoint
            without it loads with this value. Training losses do not use
            it; T > 0 leaves the predicted class unchanged. Default: 1.0.
        **kwargs: ``backbone``, ``decode_head``, ``neck``,
            ``auxiliary_head``, ``train_cfg``, ``test_cfg``,
            ``data_preprocessor``, ``pretrained``, ``init_cfg`` of
            ``EncoderDecoder``.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 cls_head: ConfigType,
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 channels_last: bool = False,
                 cls_temperature: float = 1.0,
                 **kwargs):
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            auxiliary_head=auxiliary_head,
            **kwargs)
        self.cls_head = MODELS.build(cls_head)
        if not cls_temperature > 0:
            raise ValueError(
                f'cls_temperature must be > 0, got {cls_temperature}')
        self.register_buffer('cls_temperature',
                             torch.tensor(float(cls_temperature)))
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def extract_feat(self, inputs: Tensor):
        """Backbone and neck features of (N, C, H, W) ``inputs``."""
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return super().extract_feat(inputs)

    @property
    def with_cls_head(self) -> bool:
        return getattr(self, 'cls_head', None) is not None

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Checkpoints from before calibration have no ``cls_temperature``:
        they load (strictly too) with the configured value."""
        key = prefix + 'cls_temperature'
        if key not in state_dict:
            state_dict[key] = self.cls_temperature.detach().clone()
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    @property
    def cls_pools_lesion(self) -> bool:
        """Whether the class head reads the lesion probability."""
        return bool(getattr(self.cls_head, 'pools_lesion', False))

    @staticmethod
    def lesion_prob(seg_logits: Tensor) -> Tensor:
        """(N, 1, h, w) detached probability that a pixel is not background
        of the decode head's (N, C, h, w) logits."""
        seg_logits = seg_logits.detach().float()
        if seg_logits.shape[1] == 1:
            return seg_logits.sigmoid()
        return 1 - seg_logits.softmax(dim=1)[:, :1]

    def _cls_forward(self, x, seg_logits: Optional[Tensor] = None) -> Tensor:
        """Uncalibrated class logits of the features; ``seg_logits`` (the
        decode head's own, before any resize) are computed when the head
        pools under the lesion and none are given."""
        if not self.cls_pools_lesion:
            return self.cls_head(x)
        if seg_logits is None:
            seg_logits = self.decode_head.forward(x)
        return self.cls_head(x, self.lesion_prob(seg_logits))

    def classify(self, x, seg_logits: Optional[Tensor] = None) -> Tensor:
        """Calibrated class logits (N, num_cls_classes) of the features
        ``x``: the head's logits divided by ``cls_temperature``.

        Args:
            x (tuple[Tensor]): ``extract_feat`` features.
            seg_logits (Tensor, optional): the decode head's (N, C, h, w)
                logits of the same features, when at hand; read only by a
                class head that pools under the lesion.
        """
        return self._cls_forward(x, seg_logits) / self.cls_temperature

    def _decode_head_loss(self, seg_logits: Tensor,
                          data_samples: SampleList) -> dict:
        """'decode.*' losses of the decode head's (N, C, h, w) logits."""
        return add_prefix(
            self.decode_head.loss_by_feat(seg_logits, data_samples), 'decode')

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Segmentation, auxiliary and classification losses.

        Args:
            inputs (Tensor): (N, C, H, W) images.
            data_samples (list[SegDataSample]): with ``gt_sem_seg`` and
                ``gt_label``.
        """
        x = self.extract_feat(inputs)
        seg_logits = self.decode_head.forward(x)
        losses = self._decode_head_loss(seg_logits, data_samples)
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, data_samples))
        if self.cls_pools_lesion:
            cls_losses = self.cls_head.loss(
                x, data_samples, lesion_prob=self.lesion_prob(seg_logits))
        else:
            cls_losses = self.cls_head.loss(x, data_samples)
        # mmpretrain names its term 'loss'; call it what it is.
        if 'loss' in cls_losses:
            cls_losses['loss_cls'] = cls_losses.pop('loss')
        losses.update(add_prefix(cls_losses, 'cls'))
        return losses

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Segment and classify.

        Returns:
            list[SegDataSample]: each with ``pred_sem_seg`` and ``seg_logits``
            (at the original image size, as mmseg does), ``pred_score``
            (num_classes,) softmax probabilities and ``pred_label`` (1,).
        """
        if data_samples is not None:
            batch_img_metas = [s.metainfo for s in data_samples]
        else:
            batch_img_metas = [
                dict(
                    ori_shape=inputs.shape[2:],
                    img_shape=inputs.shape[2:],
                    pad_shape=inputs.shape[2:],
                    padding_size=[0, 0, 0, 0])
            ] * inputs.shape[0]
        if self.test_cfg.get('mode', 'whole') == 'whole':
            x = self.extract_feat(inputs)
            head_logits = self.decode_head.forward(x)
            seg_logits = self.decode_head.predict_by_feat(
                head_logits, batch_img_metas)
        else:  # sliding windows for the mask, whole image for the class
            seg_logits = self.inference(inputs, batch_img_metas)
            x = self.extract_feat(inputs)
            head_logits = None
        cls_logits = self.classify(x, head_logits)
        results = self.postprocess_result(seg_logits, data_samples)
        scores = torch.softmax(cls_logits.float(), dim=1)
        for result, score in zip(results, scores):
            result.set_field(score, 'pred_score')
            result.set_field(score.argmax(dim=0, keepdim=True), 'pred_label')
        return results

    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None) -> SampleList:
        """mmseg's post-processing (crop the padding, resize to the original
        size, argmax) on channels-last logits.

        Its per-image argmax over the class dimension of (C, H, W) is then
        a reduction over adjacent memory; on NCHW logits the same argmax
        costs about 40 ms per 640 x 640 image on a CPU core, more than the
        network. The values are identical.
        """
        return super().postprocess_result(
            seg_logits.contiguous(memory_format=torch.channels_last),
            data_samples)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None
                 ) -> Tuple[Tensor, Tensor]:
        """Both branches, no post-processing (what FLOP counters and ONNX
        export see).

        Returns:
            tuple: segmentation logits (N, num_classes, H', W') at the decode
            head's output resolution, and calibrated class logits
            (N, num_cls_classes), i.e. divided by ``cls_temperature``.
        """
        x = self.extract_feat(inputs)
        seg_logits = self.decode_head.forward(x)
        return seg_logits, self.classify(x, seg_logits)
