"""Problem 5's residual stack: L_{l+1} = L_l + f(W_{l+1} * L_l - B_{l+1}).

The seed's case is f = identity (no activation), for which Var(L_l) = (1 + D^2 J sigma_w^2)^l
Var(L_0) if everything were independent (docs/theory.md, Problem 5).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ..errors import SettingsError
from .activations import make_activation
from .init import residual_init_var
from .strips import Cancelled, Progress, conv_sum


class ResidualStack(nn.Module):
    """``depth`` residual blocks of J channels with centred D x D filters.

    ``weight[i]`` is W_{i+1} ``[J, J, D, D]`` (torch conv layout), ``bias[i]`` is B_{i+1} ``[J]``
    (subtracted, as the seed writes; zero at initialisation). ``init_var=None`` is the rule
    ln 2 / (L D^2 J) of Problem 5(b); a rule name or a number is accepted too.
    """

    def __init__(
        self,
        channels: int = 16,
        depth: int = 10,
        kernel: int = 3,
        init_var: str | float | None = None,
        activation: str = "identity",
        seed: int = 0,
    ) -> None:
        super().__init__()
        if kernel % 2 != 1 or kernel < 1:
            raise SettingsError(f"kernel must be odd (filters are centred), not {kernel}")
        self.channels, self.depth, self.kernel, self.activation = channels, depth, kernel, activation
        self._act = make_activation(activation)
        self.init_var = residual_init_var(init_var, depth, kernel, channels)
        gen = torch.Generator().manual_seed(int(seed))
        std = math.sqrt(self.init_var)
        self.weight = nn.ParameterList(
            nn.Parameter(torch.randn(channels, channels, kernel, kernel, generator=gen) * std) for _ in range(depth)
        )
        self.bias = nn.ParameterList(nn.Parameter(torch.zeros(channels)) for _ in range(depth))

    def forward(
        self, x: torch.Tensor, cancel: Callable[[], bool] | None = None, progress: Progress | None = None
    ) -> list[torch.Tensor]:
        """x: ``[B, J, H, W]``. Returns ``outs`` with ``outs[0] = x`` and ``outs[l]`` = L_l, l = 1..L.

        ``cancel`` is polled every 8 blocks and between the row strips of a convolution too large
        to wait for (:mod:`cnnviz.core.strips`); ``progress(multiplies)`` hears of the work done."""
        p = self.kernel // 2
        outs = [x]
        for i in range(self.depth):
            if cancel is not None and i % 8 == 0 and cancel():
                raise Cancelled
            r = conv_sum(((outs[-1], self.weight[i], 1),), -self.bias[i], p, cancel=cancel, progress=progress)
            outs.append(outs[-1] + self._act(r))
        return outs
