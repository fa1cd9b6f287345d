"""The simulation clock: SimPy's environment, and the cheap events the model schedules on it.

The model uses callbacks rather than one generator per case. :class:`Call` is a SimPy event that
calls ``fn(*args)`` when processed; :class:`Due` is the hot path's version for a case's next
completion. Both are scheduled already triggered, and what SimPy's event loop only reads (the
callbacks, the outcome) is shared, so an event costs a few assignments: the loop replaces
``callbacks`` on the instance with None once the event is processed, leaving the shared list as it
was. This relies on SimPy's ``Event`` internals (``callbacks``, ``_value``, ``_ok``), as the
model's run loop relies on ``Environment._queue``, ``_eid`` and ``_now`` (see :mod:`demandsim.model`).

Nothing that would fall at or after the horizon is scheduled: it could never run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy
from simpy.core import NORMAL


def _call(event: Call) -> None:
    event.fn(*event.args)


class Call(simpy.events.Event):
    """Calls ``fn(*args)`` when processed."""

    callbacks = [_call]  # noqa: RUF012 (read-only by design; see the module docstring)
    _value = None
    _ok = True

    def __init__(self, env: simpy.Environment, fn: Callable[..., Any], args: tuple) -> None:
        self.env = env
        self.fn = fn
        self.args = args


class Due(simpy.events.Event):
    """The end of a case's work or episode: ``case`` and the ``token`` it had when scheduled.

    The hot path's event, so it has no ``__init__`` and no instance dict: it is made with
    ``object.__new__`` and three assignments, ``callbacks`` being a list shared by all the run's
    completions (SimPy only replaces it with None once the event is processed).
    """

    __slots__ = ("callbacks", "case", "token")
    _value = None
    _ok = True


class Clock:
    """Schedules calls on ``env`` up to ``horizon`` days."""

    __slots__ = ("env", "horizon", "schedule")

    def __init__(self, env: simpy.Environment, horizon: float) -> None:
        self.env = env
        self.horizon = horizon
        self.schedule = env.schedule

    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` after ``delay`` days (never, if that falls after the horizon)."""
        if self.env._now + delay < self.horizon:
            self.schedule(Call(self.env, fn, args), NORMAL, delay)
