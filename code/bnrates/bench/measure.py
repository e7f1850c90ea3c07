"""A measurement against its target, timing by median, and the units and seed every section shares."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

Log = Callable[[str], object]


GB = 1e9
"""Bytes per GB (decimal), the unit of the memory target."""


SEED = 20190101


def measurement(value: float, target: float | None, relation: str, unit: str, notes: str = "", **extra: object) -> dict:
    """One measurement: ``value`` compared with ``target`` by ``relation`` (``<=``, ``>=`` or ``==``).

    ``met`` is the comparison's result; a measurement reported for reference only has ``target``
    and ``met`` ``None``. ``extra`` fields (raw timings, lists) are kept alongside.
    """
    if relation not in ("<=", ">=", "=="):
        raise ValueError(f"relation must be one of '<=', '>=', '=='; got {relation!r}")
    if target is None:
        met = None
    else:
        met = bool(value <= target if relation == "<=" else value >= target if relation == ">=" else value == target)
    return {
        "value": float(value),
        "target": None if target is None else float(target),
        "relation": relation,
        "unit": unit,
        "met": met,
        "notes": notes,
        **extra,
    }


def _median_time(func: Callable[[], object], reps: int) -> tuple[float, list[float]]:
    """Median wall time of ``func()`` over ``reps`` calls, and every time."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times
