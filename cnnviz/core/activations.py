"""The four activations, one spelling everywhere: identity, relu, sigmoid, tanh."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..errors import SettingsError
from ..settings import ACTIVATIONS

_OUT_OF_PLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda y: y,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}
# In-place variants save one allocation per layer; autograd handles them because the
# tensor being overwritten is a fresh conv output no other node needs.
_IN_PLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "identity": lambda y: y,
    "relu": torch.relu_,
    "sigmoid": torch.sigmoid_,
    "tanh": torch.tanh_,
}


def make_activation(name: str, inplace: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
    if name not in ACTIVATIONS:
        raise SettingsError(f"activation must be one of {', '.join(ACTIVATIONS)}, not {name!r}")
    return (_IN_PLACE if inplace else _OUT_OF_PLACE)[name]
