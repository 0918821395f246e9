"""Problem 2's video CNN, and the sliding window of frames it reads.

    L_{l+1}[b, x, y, t, j] = f( sum_{dx, dy, dt, i} W_{l+1}[dx, dy, dt, i, j] . L_l[b, s x + dx, s y + dy, s t + dt, i] )

one stride s on space and time, no bias (as the seed writes). cnnviz uses the centred
convention of docs/theory.md in space *and* time: offsets run from -p to p (p = D // 2, p_t = D_t // 2),
values outside the clip are zero, so a length n becomes ceil(n / s) and the maps stay aligned
with the frames. The seed's own indices start at 0 with no padding ("valid"); here the torch
weight ``weight[l][j, i, dt + p_t, dy + p, dx + p]`` is the seed's W_{l+1}[dx, dy, dt, i, j].

Cost (Problem 1 with dT added): B X Y T dX dY dT I J multiplies per layer, over the output.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SettingsError
from .activations import make_activation
from .cost import conv_multiplies
from .init import resolve_init_var
from .scale_net import Cancelled

DEFAULT_WINDOW = 8  # frames in a clip: the last T frames seen
FLOAT32_BYTES = 4


def out_length(n: int, stride: int) -> int:
    """Length of a centred, zero-padded, strided axis: ceil(n / s) for odd filters."""
    return -(-int(n) // int(stride))


class VideoNet(nn.Module):
    """Problem 2's network over clips ``[B, C, T, H, W]``.

    ``weight[i]`` is W_{i+1} as a torch conv3d weight ``[J, I, D_t, D, D]`` (I = ``in_channels``
    for i = 0, J after). Weights are Gaussian, drawn from ``seed`` with a torch.Generator.
    ``init_var`` is sigma_w^2: ``None`` means "he" (2 / fan_in per layer, fan_in = I D^2 D_t);
    a rule name ("lecun", "he", "residual") is evaluated per layer; a number is sigma_w^2 of
    layers 2..L, and layer 1 (I = 3 colours) gets the same gain sigma_w^2 fan_in, as in the
    scale-shared network. ``activation`` f is applied after every layer.
    """

    def __init__(
        self,
        in_channels: int = 3,
        channels: int = 16,
        depth: int = 4,
        kernel: int = 3,
        kernel_t: int = 3,
        stride: int = 1,
        activation: str = "relu",
        init_var: str | float | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        for name, value in (("kernel", kernel), ("kernel_t", kernel_t)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value % 2 == 0:
                raise SettingsError(f"{name.replace('_', ' ')} must be odd and >= 1 (filters are centred), not {value}")
        for name, value in (("in_channels", in_channels), ("channels", channels), ("depth", depth), ("stride", stride)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name.replace('_', ' ')} must be a whole number >= 1, not {value}")
        self.in_channels, self.channels, self.depth = in_channels, channels, depth
        self.kernel, self.kernel_t, self.stride, self.activation = kernel, kernel_t, stride, activation
        self._act = make_activation(activation, inplace=True)
        self.init_vars = video_init_vars(init_var, depth, kernel, kernel_t, channels, in_channels)
        gen = torch.Generator().manual_seed(int(seed))
        self.weight = nn.ParameterList()
        for i, var in enumerate(self.init_vars):
            fan = in_channels if i == 0 else channels
            w = torch.randn((channels, fan, kernel_t, kernel, kernel), generator=gen) * math.sqrt(var)
            self.weight.append(nn.Parameter(w))

    @property
    def padding(self) -> tuple[int, int, int]:
        """(p_t, p, p): zero padding on (T, H, W)."""
        return (self.kernel_t // 2, self.kernel // 2, self.kernel // 2)

    def fan_in(self, i: int) -> int:
        """I D^2 D_t of layer i + 1."""
        return (self.in_channels if i == 0 else self.channels) * self.kernel**2 * self.kernel_t

    def forward(
        self, clip: torch.Tensor, cancel: Callable[[], bool] | None = None, grad_from_level: int | None = None
    ) -> list[torch.Tensor]:
        """clip ``[B, C, T, H, W]`` -> ``[L_0, ..., L_L]``, L_0 = clip, L_l ``[B, J, T_l, H_l, W_l]``
        with each length ceil(previous / s).

        ``grad_from_level``: layers from this level on are made to require grad (the layer
        below is detached), so gradients with respect to layer outputs can be taken without a
        backward pass through the levels below. ``cancel`` is polled between layers.
        """
        if clip.dim() != 5:
            raise SettingsError(f"a clip is [B, C, T, H, W], not a tensor of shape {tuple(clip.shape)}")
        if clip.shape[1] != self.in_channels:
            raise SettingsError(f"the clip has {clip.shape[1]} channels, the network expects {self.in_channels}")
        outs = [clip]
        x = clip
        for i, w in enumerate(self.weight):
            if cancel is not None and cancel():
                raise Cancelled
            x = self._act(F.conv3d(x, w, stride=self.stride, padding=self.padding))
            if grad_from_level is not None and i + 1 == grad_from_level:
                x = x.detach().requires_grad_()
            outs.append(x)
        return outs

    def output_shapes(self, clip_shape: Sequence[int]) -> list[tuple[int, int, int, int, int]]:
        """Shapes ``(B, C, T, H, W)`` of L_0..L_L for a clip of ``clip_shape``, without running it."""
        b, c, t, h, w = (int(d) for d in clip_shape)
        shapes = [(b, c, t, h, w)]
        for _ in range(self.depth):
            t, h, w = out_length(t, self.stride), out_length(h, self.stride), out_length(w, self.stride)
            shapes.append((b, self.channels, t, h, w))
        return shapes

    def multiplies(self, clip_shape: Sequence[int]) -> list[int]:
        """B X Y T dX dY dT I J for each layer L_0..L_L over its output (0 for L_0)."""
        shapes = self.output_shapes(clip_shape)
        counts = [0]
        for i, (b, j, t, h, w) in enumerate(shapes[1:]):
            i_ch = self.in_channels if i == 0 else self.channels
            counts.append(conv_multiplies(b, h, w, self.kernel, self.kernel, i_ch, j) * t * self.kernel_t)
        return counts

    def activation_bytes(self, clip_shape: Sequence[int]) -> int:
        """float32 bytes of L_1..L_L for one clip (the gradients take as much again)."""
        return sum(int(np.prod(s)) * FLOAT32_BYTES for s in self.output_shapes(clip_shape)[1:])


def video_init_vars(
    init: str | float | None, depth: int, kernel: int, kernel_t: int, channels: int, in_channels: int = 3
) -> list[float]:
    """sigma_w^2 of layers 1..L (index i is layer i + 1); see :class:`VideoNet`."""
    fans = [(in_channels if i == 0 else channels) * kernel**2 * kernel_t for i in range(depth)]
    if init is None or isinstance(init, str):
        return [resolve_init_var(init, fan, depth, kernel, channels) for fan in fans]
    var_rest = resolve_init_var(
        init, fans[-1] if depth > 1 else channels * kernel**2 * kernel_t, depth, kernel, channels
    )
    gain = var_rest * channels * kernel**2 * kernel_t
    return [gain / fans[0]] + [var_rest] * (depth - 1)


def clip_bytes(window: int, size: int, channels: int = 3) -> int:
    """Memory of one clip window: T frames of ``[size, size, channels]`` float32."""
    return int(window) * int(size) ** 2 * int(channels) * FLOAT32_BYTES


class ClipWindow:
    """The last ``length`` frames, oldest first: a bounded deque, so memory never grows.

    Each frame is float32 ``[N, N, 3]`` in [0, 1]; the window holds at most
    :func:`clip_bytes` ``(length, N)`` bytes (8 frames of 256^2: 6.3 MB; of 512^2: 25.2 MB).
    """

    def __init__(self, length: int = DEFAULT_WINDOW) -> None:
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise SettingsError(f"the clip window must be a whole number of frames >= 1, not {length}")
        self.length = length
        self._frames: deque[tuple[int, np.ndarray]] = deque(maxlen=length)

    def push(self, index: int, frame: np.ndarray) -> None:
        """Add frame ``index`` ``[N, N, 3]``; a frame that does not follow the last one starts a new window."""
        if self._frames and (index != self._frames[-1][0] + 1 or frame.shape != self._frames[-1][1].shape):
            self._frames.clear()
        self._frames.append((int(index), frame))

    def clear(self) -> None:
        self._frames.clear()

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def full(self) -> bool:
        return len(self._frames) == self.length

    @property
    def indices(self) -> list[int]:
        return [i for i, _ in self._frames]

    @property
    def nbytes(self) -> int:
        return sum(f.nbytes for _, f in self._frames)

    def max_nbytes(self, size: int) -> int:
        return clip_bytes(self.length, size)

    def clip(self, offset: float = 0.5, device: torch.device | str = "cpu") -> torch.Tensor:
        """The window as a network input ``[1, 3, T, N, N]`` float32, minus ``offset`` (as the image engine)."""
        if not self._frames:
            raise SettingsError("the clip window is empty")
        stack = np.stack([f for _, f in self._frames])  # [T, N, N, 3]
        x = torch.from_numpy(stack).to(device).permute(3, 0, 1, 2).unsqueeze(0)
        return (x - offset).contiguous()
