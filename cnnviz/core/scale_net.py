"""Problem 3's scale-shared network over an image pyramid.

    L_{l+1,s} = f( W_{l+1,<-} * L_{l,s+1}            (stride 1: the next-coarser scale)
                 + W_{l+1,^}  *_2 L_{l,s}            (stride 2: the same scale)
                 + B_{l+1} )

with centred D x D filters and zero padding p = D // 2 at every scale. The weights do not
depend on s, so the network treats all scales alike as a convolution treats all positions
alike; ``shared=False`` is the ablation with one filter pair per absolute scale. The equations,
conventions and the scale equivariance this gives: docs/theory.md, Problem 3.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..errors import SettingsError
from . import strips
from .activations import make_activation
from .init import scale_net_init_vars
from .strips import Cancelled, Progress, conv_sum, sum_multiplies

__all__ = ["Cancelled", "ScaleSharedNet"]


def _channels_last(t: torch.Tensor) -> torch.Tensor:
    if t.ndim != 4 or t.is_contiguous(memory_format=torch.channels_last):
        return t
    return t.contiguous(memory_format=torch.channels_last)


class ScaleSharedNet(nn.Module):
    """The scale-shared network of Problem 3.

    Parameters are public: ``w_left[i]`` and ``w_up[i]`` are W_{i+1,<-} and W_{i+1,^} as
    torch conv weights ``[J, I, D, D]`` (``[S, J, I, D, D]`` with ``shared=False``, one per
    absolute scale s < ``max_scales``), ``bias[i]`` is B_{i+1} ``[J]``. I is ``in_channels``
    for i = 0 and J after. ``init_var`` is a number or a rule name (see :mod:`cnnviz.core.init`);
    ``None`` means "he". Weights are Gaussian, drawn from ``seed``; biases start at zero.
    """

    def __init__(
        self,
        in_channels: int = 3,
        channels: int = 16,
        depth: int = 6,
        kernel: int = 3,
        activation: str = "relu",
        init_var: str | float | None = None,
        shared: bool = True,
        seed: int = 0,
        max_scales: int = 12,
    ) -> None:
        super().__init__()
        if kernel % 2 != 1 or kernel < 1:
            raise SettingsError(f"kernel must be odd (filters are centred), not {kernel}")
        if depth < 1:
            raise SettingsError(f"depth must be at least 1, not {depth}")
        self.in_channels, self.channels, self.depth, self.kernel = in_channels, channels, depth, kernel
        self.activation, self.shared, self.max_scales = activation, shared, max_scales
        self._act = make_activation(activation, inplace=True)
        self.init_vars = scale_net_init_vars(init_var, depth, kernel, channels, in_channels)
        gen = torch.Generator().manual_seed(int(seed))
        self.w_left, self.w_up, self.bias = nn.ParameterList(), nn.ParameterList(), nn.ParameterList()
        for i, var in enumerate(self.init_vars):
            fan = in_channels if i == 0 else channels
            shape = (channels, fan, kernel, kernel) if shared else (max_scales, channels, fan, kernel, kernel)
            std = math.sqrt(var)
            self.w_left.append(nn.Parameter(torch.randn(shape, generator=gen) * std))
            self.w_up.append(nn.Parameter(torch.randn(shape, generator=gen) * std))
            self.bias.append(nn.Parameter(torch.zeros(channels)))

    def weights(self, i: int, scale: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(W_{i+1,<-}, W_{i+1,^}) used to compute L_{i+1,scale}, each ``[J, I, D, D]``."""
        if self.shared:
            return self.w_left[i], self.w_up[i]
        if scale >= self.max_scales:
            raise SettingsError(f"unshared weights exist for scales below {self.max_scales}, not {scale}")
        return self.w_left[i][scale], self.w_up[i][scale]

    def level(
        self,
        i: int,
        prev: Sequence[torch.Tensor],
        cancel: Callable[[], bool] | None = None,
        progress: Progress | None = None,
    ) -> list[torch.Tensor]:
        """Level i+1 from level i: ``prev[s]`` ``[B, I, n_s, n_s]`` -> ``len(prev) - 1`` maps ``[B, J, n_s/2, n_s/2]``.

        ``cancel`` is polled between scales, and between the row strips of a convolution too
        large to wait for (:mod:`cnnviz.core.strips`), so a level of a large image can be
        abandoned part-way (:class:`Cancelled`). ``progress(multiplies)`` is called as they are done."""
        p = self.kernel // 2
        out = []
        bias = self.bias[i]
        # shared: one filter pair for every scale, looked up once (a ParameterList lookup costs
        # as much as a small map's convolution)
        pair = self.weights(i, 0) if self.shared else None
        # Backward progress: a gradient hook per map cost more than the small maps' own backward
        # passes; maps that cannot move the fraction by a step alone (``progress.fine``, see
        # progress.Tracker) report theirs together, from one hook on the finest of them (the
        # coarser ones' backward passes run before its own).
        fine = getattr(progress, "fine", 0)
        pending, first_small = 0, None
        for s in range(len(prev) - 1):
            if s > 0 and cancel is not None and cancel():
                raise Cancelled
            w_left, w_up = pair if pair is not None else self.weights(i, s)
            branches = ((prev[s + 1], w_left, 1), (prev[s], w_up, 2))
            n = prev[s + 1].shape[2]  # the output's side: centred filters, padding D // 2
            mult = sum_multiplies(branches, n, prev[s + 1].shape[3]) if fine else 0
            small = 0 < mult < fine and mult <= 2 * strips.STRIP_MULTIPLIES  # unsplit: no reports of its own
            # W_<- * L_{i,s+1} (stride 1) + W_^ *_2 L_{i,s} (stride 2) + B: F.conv2d twice, or in strips
            y = conv_sum(branches, bias, p, cancel=cancel, progress=progress, backward_progress=not small)
            if small and y.requires_grad:
                pending += mult
                first_small = y if first_small is None else first_small
            out.append(self._act(y))
        if first_small is not None and progress is not None:
            first_small.register_hook(lambda _g, m=pending: progress(m))  # type: ignore[no-untyped-call]
        return out

    def forward(
        self,
        pyr: Sequence[torch.Tensor],
        cancel: Callable[[], bool] | None = None,
        grad_from_level: int | None = None,
        progress: Progress | None = None,
    ) -> list[list[torch.Tensor]]:
        """All layers L_{l,s}.

        pyr: the image pyramid, ``pyr[s]`` ``[B, I, 2^(k-s), 2^(k-s)]``. Returns ``layers`` with
        ``layers[0] = list(pyr)`` and ``layers[l][s]`` = L_{l,s} ``[B, J, 2^(k-l-s), 2^(k-l-s)]``,
        ``len(layers[l]) == len(pyr) - l``. Levels l >= 1 are channels_last tensors (same
        values and shapes; use ``.reshape``, not ``.view``, to flatten one).

        ``grad_from_level=g`` computes levels below g without autograd and makes level g's maps
        leaves that require grad: gradients with respect to every L_{l,s}, l >= g, then cost no
        backward pass through the levels below (used by the engine; weights need no grad).
        ``cancel`` is polled between levels and between the scales of a level; when it returns
        True, :class:`Cancelled` is raised. ``progress(multiplies)`` is called as the forward
        pass does them (Problem 1's count, :mod:`cnnviz.core.cost`).
        """
        k = len(pyr) - 1
        if self.depth > k:
            raise SettingsError(f"depth {self.depth} needs an image of at least {2**self.depth} pixels, got {2**k}")
        layers: list[list[torch.Tensor]] = [list(pyr)]
        # The convolutions run in channels_last (NHWC): on the CPU its kernels are ~1.5x faster
        # for these few channels, forward and backward (scripts/bench.py). An NCHW pyramid is
        # converted once; layers[0] stays the caller's tensors, and gradients reach them.
        prev: list[torch.Tensor] = [_channels_last(p) for p in pyr]
        for i in range(self.depth):
            if cancel is not None and cancel():
                raise Cancelled
            if grad_from_level is not None and i + 1 <= grad_from_level:
                with torch.no_grad():
                    cur = self.level(i, prev, cancel, progress)
                if i + 1 == grad_from_level:
                    cur = [m.requires_grad_() for m in cur]
            else:
                cur = self.level(i, prev, cancel, progress)
            layers.append(cur)
            prev = cur
        return layers
