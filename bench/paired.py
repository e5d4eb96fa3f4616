"""Time one page with a change and without it, call beside call, in one process: a paired A/B
for changes smaller than the host's spread between runs.

On a shared two-core host the same page can take 14 ms in one ``run.py`` series and 27 in the
next (lead53); a change worth 0.3 ms cannot show there. Here each call with the change is timed
beside a call without it, in alternating order, in one warm process, and the median of the
pairs' differences is printed with how many pairs the change won.

The change is a swap of one attribute: ``--swap TARGET=REPLACEMENT``, each written
``module:attribute.path``. ``REPLACEMENT`` may be ``noop`` (a function that does nothing: the
change is then the attribute itself, measured by taking it out)::

    .venv/bin/python bench/paired.py --cases 200000 --engine sqlite --url /ledger/ \\
        --swap xinfang.cases.selectors:Door.want_places=noop

A replacement from a scratch module is found on ``PYTHONPATH``. Writes change the data, as in
the benchmark.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Pairs:
    without: float  # the median call without the change, seconds
    with_: float  # the median call with it
    difference: float  # the median of (with − without) over the pairs
    won: int  # pairs in which the call with the change was the faster
    pairs: int


def paired(call: Callable[[], object], *, on: Callable[[], None], off: Callable[[], None],
           pairs: int, clock: Callable[[], float] = time.perf_counter) -> Pairs:
    """``pairs`` calls with the change (after ``on()``) each beside one without it (after
    ``off()``), the first of each pair alternating; ``off()`` again at the end."""
    without, with_, differences = [], [], []
    try:
        for i in range(pairs):
            timed = {}
            for state in ((off, on) if i % 2 == 0 else (on, off)):
                state()
                began = clock()
                call()
                timed[state] = clock() - began
            without.append(timed[off])
            with_.append(timed[on])
            differences.append(timed[on] - timed[off])
    finally:
        off()
    return Pairs(statistics.median(without), statistics.median(with_),
                 statistics.median(differences), sum(d < 0 for d in differences), pairs)


def _resolve(text: str) -> tuple[object, str]:
    """``module:a.b.c`` as the object holding ``c`` and the name ``c``."""
    module, _, path = text.partition(":")
    if not module or not path:
        raise SystemExit(f"--swap: {text!r} is not module:attribute")
    owner = importlib.import_module(module)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    if not hasattr(owner, name):
        raise SystemExit(f"--swap: {module} has no {path}")
    return owner, name


def swap(spec: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """``TARGET=REPLACEMENT`` as the two states: ``on()`` puts the replacement in place,
    ``off()`` the original."""
    target, _, replacement = spec.partition("=")
    owner, name = _resolve(target)
    # a class's own attribute as it is stored (a function, not a bound method); an inherited
    # one is taken out again rather than copied onto the class
    own = not isinstance(owner, type) or name in owner.__dict__
    original = (owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
                ) if own else None
    if replacement == "noop":
        new = lambda *args, **kwargs: None  # noqa: E731
    else:
        holder, attribute = _resolve(replacement)
        new = getattr(holder, attribute)

    def off() -> None:
        if own:
            setattr(owner, name, original)
        elif name in owner.__dict__:
            delattr(owner, name)

    return (lambda: setattr(owner, name, new)), off


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=200_000)
    p.add_argument("--engine", choices=["postgres", "sqlite"], default="sqlite")
    p.add_argument("--user", default="clerk")
    p.add_argument("--url", required=True)
    p.add_argument("--swap", required=True, metavar="TARGET=REPLACEMENT")
    p.add_argument("--pairs", type=int, default=300)
    args = p.parse_args()

    from bench.generate import set_up_on

    set_up_on(args.engine, args.cases)
    from django.test import Client

    from bench.workloads import served_as_a_worker
    from xinfang.org.models import User

    client = Client()
    client.force_login(User.objects.get(username=args.user))
    served_as_a_worker()
    on, off = swap(args.swap)

    def call():
        response = client.get(args.url)
        if response.status_code != 200:
            raise SystemExit(f"{args.url}: {response.status_code}")

    for state in (off, on, off):  # warm both ways: the profile, the templates, kept statements
        state()
        for _ in range(5):
            call()
    gc.collect()
    gc.freeze()
    got = paired(call, on=on, off=off, pairs=args.pairs)
    print(f"{args.url} ({args.engine}, {args.cases:,} cases), {got.pairs} pairs: without "
          f"{got.without * 1000:.2f} ms, with {got.with_ * 1000:.2f} ms; the pairs' median "
          f"difference {got.difference * 1000:+.3f} ms, the change faster in {got.won}")


if __name__ == "__main__":
    main()
