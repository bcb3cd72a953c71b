"""The torch device of the learning agents: ``"auto"``, ``"cpu"`` or ``"cuda"`` (Stable-Baselines3's convention).

``"cpu"`` is the default and the tested one: the networks are small (two
hidden layers of 64), and on two cores most of a PPO update is many small
matrix products that a GPU does not speed up much.  ``"auto"`` takes a GPU
when torch sees one, else the CPU; ``"cuda"`` (or ``"cuda:N"``) asks for one
(Stable-Baselines3 falls back to the CPU when none is visible).  The same
seed gives the same numbers on one device; a CPU and a GPU give slightly
different ones.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["DEVICES", "check_device", "resolve_device"]

#: The device settings a config may name (an agent also accepts ``"cuda:N"``).
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
_DEVICE_PATTERN = re.compile(r"(auto|cpu|cuda(:\d+)?)")


def check_device(value: Any, owner: str) -> str:
    """Validate a device setting: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Raises
    ------
    ValueError
        Naming ``owner`` and the accepted values.
    """
    if not isinstance(value, str) or not _DEVICE_PATTERN.fullmatch(value):
        raise ValueError(
            f"{owner}: device received {value!r}, expected 'auto' (a GPU when torch sees one), 'cpu' or 'cuda' "
            "(or 'cuda:N')."
        )
    return value


def resolve_device(device: str) -> str:
    """The device torch will use for ``device`` on this machine (``"cpu"``, ``"cuda"``...), as Stable-Baselines3 picks it."""
    from stable_baselines3.common.utils import get_device

    return str(get_device(device))
