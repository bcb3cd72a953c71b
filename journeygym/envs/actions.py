"""The action table: what each action is, one definition for every layer.

Action 0 is always "no action".  Every other action has a *kind*; the kind says
which parts of the dynamics it touches:

=========  ==========================================================================
kind       effect
=========  ==========================================================================
``none``   nothing is delivered (action 0 only)
``email``  a contact: the trial's e-mail effects, scaled by the fatigue multiplier;
           it adds to the fatigue stock, may unsubscribe the customer, counts
           against a frequency cap and a contact budget
=========  ==========================================================================

A new kind (a discount that scales the margin, say) is added here, with the
masks it answers to; the kernel and its callers read the masks
(:attr:`ActionTable.is_contact`, :attr:`ActionTable.is_email`), never the
action's number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

import numpy as np

__all__ = ["NO_ACTION", "ActionKind", "ActionSpec", "ActionTable", "action_table", "arm_action", "arm_names"]

#: The number of the action that delivers nothing.
NO_ACTION = 0


class ActionKind(str, Enum):
    """What an action delivers (see the module's table)."""

    NONE = "none"
    EMAIL = "email"


@dataclass(frozen=True)
class ActionSpec:
    """One action: its identifier, kind, cost when delivered, and the label it had in the data."""

    name: str
    kind: ActionKind
    cost: float
    label: str = ""

    @property
    def is_contact(self) -> bool:
        """Whether the action delivers something to the customer (anything but ``none``)."""
        return self.kind is not ActionKind.NONE

    @property
    def is_email(self) -> bool:
        """Whether the action is an e-mail: it bears fatigue, unsubscribes and the frequency cap."""
        return self.kind is ActionKind.EMAIL


@dataclass(frozen=True)
class ActionTable:
    """The actions of a simulator, in the order of their numbers (action 0 first, of kind ``none``)."""

    actions: tuple[ActionSpec, ...]

    def __post_init__(self) -> None:
        if not self.actions or self.actions[0].kind is not ActionKind.NONE:
            first = self.actions[0].kind.value if self.actions else "no action at all"
            raise ValueError(f"ActionTable: action 0 must be of kind 'none' (no action); received {first!r}.")
        others = [spec.name for spec in self.actions[1:] if spec.kind is ActionKind.NONE]
        if others:
            raise ValueError(f"ActionTable: only action 0 may be of kind 'none'; received it also for {others}.")
        names = [spec.name for spec in self.actions]
        if len(set(names)) != len(names):
            raise ValueError(f"ActionTable: action names must be unique; received {names}.")

    @classmethod
    def of_emails(cls, names: Sequence[str], costs: Sequence[float], labels: Sequence[str] | None = None) -> ActionTable:
        """Action 0 (``none``) and e-mails: the table of every trial of e-mail arms."""
        if len(costs) != len(names):
            raise ValueError(f"ActionTable: received {len(costs)} costs for {len(names)} actions {tuple(names)}; expected one each.")
        labels = tuple(labels) if labels is not None else tuple(names)
        return cls(
            tuple(
                ActionSpec(str(name), ActionKind.NONE if a == NO_ACTION else ActionKind.EMAIL, float(cost), str(label))
                for a, (name, cost, label) in enumerate(zip(names, costs, labels))
            )
        )

    @property
    def n_actions(self) -> int:
        """Number of actions, action 0 included."""
        return len(self.actions)

    @property
    def names(self) -> tuple[str, ...]:
        """The actions' identifiers."""
        return tuple(spec.name for spec in self.actions)

    @cached_property
    def costs(self) -> np.ndarray:
        """``(A,)`` cost of each action when delivered."""
        return np.array([spec.cost for spec in self.actions], dtype=np.float64)

    @cached_property
    def is_contact(self) -> np.ndarray:
        """``(A,)`` bool: the action delivers something (counts as a contact, e.g. against a budget)."""
        return np.array([spec.is_contact for spec in self.actions], dtype=bool)

    @cached_property
    def is_email(self) -> np.ndarray:
        """``(A,)`` bool: the action is an e-mail (fatigue, unsubscribes, frequency cap)."""
        return np.array([spec.is_email for spec in self.actions], dtype=bool)

    @property
    def labels(self) -> tuple[str, ...]:
        """The actions' labels in the data (the trial's arm labels), or their names."""
        return tuple(spec.label or spec.name for spec in self.actions)

    def records(self) -> list[dict[str, str]]:
        """What an artifact records of each action: name, kind and label (the costs are the scenario's)."""
        return [{"name": spec.name, "kind": spec.kind.value, "label": spec.label or spec.name} for spec in self.actions]

    @property
    def contacts(self) -> tuple[int, ...]:
        """Numbers of the actions that deliver something."""
        return tuple(int(a) for a in np.flatnonzero(self.is_contact))


def action_table(
    action_names: Sequence[str], action_costs: Sequence[float], records: Sequence[dict[str, str]] | None = None
) -> ActionTable:
    """The action table of a parameter set's names and a scenario's costs.

    ``records`` are an artifact's ``actions`` (:meth:`ActionTable.records`: name, kind and the
    data's label of each action); without them every action but 0 is an e-mail named as it is.
    """
    names, costs = tuple(action_names), tuple(action_costs)
    if records is None:
        return ActionTable.of_emails(names, costs)
    recorded = tuple(str(record.get("name")) for record in records)
    if recorded != names or len(costs) != len(names):
        raise ValueError(
            f"ActionTable: the recorded actions {list(recorded)} do not match the action names {list(names)} "
            f"and their {len(costs)} costs; re-create the artifact with `journeygym calibrate`."
        )
    try:
        kinds = [ActionKind(record.get("kind", "email" if a else "none")) for a, record in enumerate(records)]
    except ValueError as exc:
        raise ValueError(f"ActionTable: {exc}; expected kinds {[kind.value for kind in ActionKind]}.") from None
    return ActionTable(
        tuple(
            ActionSpec(name, kind, float(cost), str(record.get("label", name)))
            for name, kind, cost, record in zip(names, kinds, costs, records)
        )
    )


#: Suffix an e-mail arm's action name may carry that its short name drops (``<arm>_email`` -> ``<arm>``).
_EMAIL_SUFFIX = "_email"


def arm_names(action_names: Sequence[str]) -> tuple[str, ...]:
    """Short names of the arms (every action but 0), as policies name them: ``always_<arm>``.

    An action named ``<arm>_email`` is the arm ``<arm>``; any other
    name is its own short name.
    """
    return tuple(name.removesuffix(_EMAIL_SUFFIX) or name for name in tuple(action_names)[1:])


def arm_action(action_names: Sequence[str], arm: str, owner: str = "policy") -> int:
    """The action number of ``arm`` (a short name of :func:`arm_names`, or the action's full name).

    Raises
    ------
    ValueError
        When no action of ``action_names`` is that arm, naming the arms there are.
    """
    names = tuple(action_names)
    for number, (name, short) in enumerate(zip(names[1:], arm_names(names)), start=1):
        if arm in (name, short):
            return number
    raise ValueError(
        f"{owner}: received arm {arm!r}, expected one of the artifact's arms {list(arm_names(names))} "
        f"(actions {list(names)}); name a policy after one of them, e.g. 'always_{arm_names(names)[0] if len(names) > 1 else 'arm'}'."
    )
