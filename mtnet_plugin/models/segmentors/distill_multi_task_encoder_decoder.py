"""Multi-task segmentor trained with a frozen teacher's segmentation logits."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList, add_prefix
from torch import Tensor

from ..utils import ensemble_logits
from .multi_task_encoder_decoder import MultiTaskEncoderDecoder


@MODELS.register_module()
class DistillMultiTaskEncoderDecoder(MultiTaskEncoderDecoder):
    """:class:`MultiTaskEncoderDecoder` whose decode head also learns a
    trained teacher's segmentation logits (knowledge distillation, as
    mmrazor's ``SingleTeacherDistill`` does with the logits of
    ``decode_head``).

    .. code:: text

        loss():     teacher._forward(inputs), eval, no grad  -> logits_T
                    extract_feat() -> decode_head.forward()  -> logits_S
                        decode_head.loss_by_feat(logits_S)    'decode.*'
                        distill_loss(logits_S, logits_T, labels) 'distill.*'
                    -> auxiliary_head.loss(), cls_head.loss() as the parent
        predict(), _forward(): the parent's; the teacher takes no part.

    When every training sample carries ``teacher_logits`` (the pipeline's
    ``LoadTeacherLogits``, from a cache written once by
    ``tools/analysis_tools/cache_teacher_logits.py``), those are the
    teacher's logits and the teacher is never built: a step costs what the
    undistilled network's does.

    The teacher is built from its config and checkpoint on the first training
    step, so testing, exporting or benchmarking the student never reads
    either file; it is kept outside the module tree: not in the student's
    ``state_dict`` or checkpoints, not seen by the optimizer, EMA or DDP.
    Inference costs nothing more than the parent's.

    Args:
        teacher (dict | list[dict]): ``config`` (path of any mmseg
            segmentor's config whose ``_forward`` returns (N, num_classes, h,
            w) logits, or a tuple whose first item is; DDRNet's head in eval
            mode returns its main logits alone) and ``checkpoint`` (path of
            its trained weights). Its ``data_preprocessor`` must normalize
            images as the student's does, since both read the same batch.
            Several teachers are one ensemble: the targets are
            :func:`ensemble_logits` of theirs (the log of their mean softmax,
            at the finest teacher's resolution). ``flip=True`` in a
            teacher's dict makes it a flip test-time-augmented teacher: the
            mean softmax of the image and of its horizontal mirror (whose
            logits are mirrored back), as one member of the ensemble.
        distill_loss (dict): Loss of (student logits, teacher logits,
            ``seg_label=`` the batch's labels (N, 1, H, W)),
            :class:`PixelKLDivergence` or :class:`ChannelWiseDivergence`;
            its ``loss_name`` is the key, under ``distill.``. Default:
            ``PixelKLDivergence``, tau 1, weight 3.
        **kwargs: :class:`MultiTaskEncoderDecoder` arguments.
    """

    def __init__(self,
                 teacher: ConfigType,
                 distill_loss: ConfigType = dict(
                     type='PixelKLDivergence', tau=1.0, loss_weight=3.0),
                 **kwargs):
        super().__init__(**kwargs)
        self.teacher_cfgs = self.teacher_configs(teacher)
        self.distill_loss = MODELS.build(distill_loss)
        # plain attributes, not submodules (class docstring)
        self.__dict__['_teachers'] = None
        self.__dict__['_teacher_logits'] = None

    @staticmethod
    def teacher_configs(teacher, source: str = 'the config') -> List[dict]:
        """``teacher`` (a dict or a list of dicts) as a list of dicts, each
        with ``config``, ``checkpoint`` and ``flip`` (False unless set);
        ``source`` (a config's path) names where it came from in the
        errors."""
        if not teacher:
            raise ValueError(f'{source}: model.teacher is not set: a dict '
                             'with config and checkpoint, or a list of them')
        teachers = list(teacher) if isinstance(teacher,
                                               (list, tuple)) else [teacher]
        for t in teachers:
            missing = {'config', 'checkpoint'} - set(t)
            unknown = set(t) - {'config', 'checkpoint', 'flip'}
            if missing or unknown:
                raise ValueError(
                    f'{source}: a teacher needs config and checkpoint '
                    f'(and may set flip); missing {sorted(missing)}, '
                    f'unknown {sorted(unknown)} in {dict(t)}')
            if not isinstance(t.get('flip', False), bool):
                raise ValueError(f'{source}: a teacher\'s flip is True or '
                                 f'False, got {t["flip"]!r}')
        return [dict(dict(flip=False), **t) for t in teachers]

    @property
    def teachers(self) -> Optional[List[nn.Module]]:
        """The frozen teachers once built (the first training step)."""
        return self.__dict__['_teachers']

    @property
    def teacher(self) -> Optional[nn.Module]:
        """The (first) frozen teacher once built."""
        teachers = self.teachers
        return None if teachers is None else teachers[0]

    def build_teachers(self, device: torch.device) -> List[nn.Module]:
        """Build every teacher of ``teacher_cfgs`` on ``device``."""
        self.__dict__['_teachers'] = [
            self.build_teacher(cfg, device) for cfg in self.teacher_cfgs
        ]
        return self.teachers

    def build_teacher(self, cfg: dict, device: torch.device) -> nn.Module:
        """Build one teacher (``config``, ``checkpoint``) on ``device``,
        frozen and in eval mode, after checking that it normalizes images as
        the student does."""
        # the inference builder: no auxiliary heads, strict checkpoint load
        from mtnet_plugin.apis.inference import init_model
        teacher = init_model(cfg['config'], cfg['checkpoint'], device=device)
        mine, theirs = self.data_preprocessor, teacher.data_preprocessor
        for attr in ('mean', 'std'):
            a, b = getattr(mine, attr, None), getattr(theirs, attr, None)
            if (a is None) != (b is None) or (a is not None and not torch.
                                              allclose(a.float().cpu(),
                                                       b.float().cpu())):
                raise ValueError(
                    f'teacher config {cfg["config"]} normalizes images with '
                    f'{attr} {None if b is None else b.flatten().tolist()}, '
                    f'the student with {None if a is None else a.flatten().tolist()}: '
                    'both read the same batch, so they must agree')
        for p in teacher.parameters():
            p.requires_grad_(False)
        return teacher.eval()

    @staticmethod
    @torch.no_grad()
    def run_teachers(teachers: List[nn.Module],
                     inputs: Tensor,
                     flips: Optional[Sequence[bool]] = None) -> Tensor:
        """Segmentation logits (N, C, h, w) of the teachers on the
        preprocessed (N, 3, H, W) ``inputs``: one teacher's own, several
        teachers' :func:`ensemble_logits`. A teacher whose ``flips`` entry
        is True gives the log of the mean softmax of ``inputs`` and of
        their mirror image (its logits mirrored back)."""
        flips = [False] * len(teachers) if flips is None else list(flips)
        if len(flips) != len(teachers):
            raise ValueError(f'{len(flips)} flips for {len(teachers)} '
                             'teachers')

        def forward(teacher, x):
            out = teacher._forward(x)
            return out[0] if isinstance(out, (tuple, list)) else out

        logits = []
        for teacher, flip in zip(teachers, flips):
            teacher.eval()
            out = forward(teacher, inputs)
            if flip:
                out = ensemble_logits(
                    [out, forward(teacher, inputs.flip(-1)).flip(-1)])
            logits.append(out)
        return logits[0] if len(logits) == 1 else ensemble_logits(logits)

    def teacher_logits(self, inputs: Tensor) -> Tensor:
        """The teachers' segmentation logits (N, C, h, w) of the
        preprocessed (N, 3, H, W) ``inputs`` (:meth:`run_teachers`)."""
        teachers = self.teachers
        if teachers is None:
            teachers = self.build_teachers(inputs.device)
        return self.run_teachers(teachers, inputs,
                                 [t['flip'] for t in self.teacher_cfgs])

    @staticmethod
    def cached_teacher_logits(inputs: Tensor,
                              data_samples: SampleList) -> Optional[Tensor]:
        """(N, C, H, W) logits the samples carry (``teacher_logits``), or
        None when none does.

        Raises:
            ValueError: when only some samples carry them.
        """
        cached = [s.get('teacher_logits', None) for s in data_samples]
        if all(c is None for c in cached):
            return None
        if any(c is None for c in cached):
            raise ValueError(
                f'{sum(c is None for c in cached)} of {len(cached)} samples '
                'of the batch carry no teacher_logits: LoadTeacherLogits '
                'must be in the pipeline of every training sample')
        return torch.stack([c.data for c in cached]).to(
            device=inputs.device, dtype=torch.float32)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """The parent's losses plus ``distill.<loss_name>`` (class
        docstring)."""
        cached = self.cached_teacher_logits(inputs, data_samples)
        self.__dict__['_teacher_logits'] = cached if cached is not None \
            else self.teacher_logits(inputs)
        try:
            return super().loss(inputs, data_samples)
        finally:
            self.__dict__['_teacher_logits'] = None

    def _decode_head_loss(self, seg_logits: Tensor,
                          data_samples: SampleList) -> dict:
        """The parent's 'decode.*' losses of the student's logits, with the
        logits also compared with the teacher's."""
        losses = super()._decode_head_loss(seg_logits, data_samples)
        teacher_logits = self.__dict__['_teacher_logits']
        if teacher_logits is not None:
            losses[f'distill.{self.distill_loss.loss_name}'] = \
                self.distill_loss(
                    seg_logits, teacher_logits,
                    seg_label=self.decode_head._stack_batch_gt(data_samples))
        return losses
