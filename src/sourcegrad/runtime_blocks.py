"""Gradients in blocks: the runtime side of the ``blocks`` stage.

``in_blocks(grad, args, blocked)`` runs a gradient that works element by
element on blocks of rows of its array arguments, in threads, and gathers
the blocks' gradients.

>>> import numpy as np
>>> x = np.arange(3.0 * BLOCKS)
>>> bool(np.array_equal(in_blocks(lambda a: 2.0 * a, (x,), (0,)), 2.0 * x))
True
"""

from __future__ import annotations

import contextvars
import os
import threading

import numpy as np

#: Arrays of this many elements or more go through ``in_blocks``.
BLOCKS = 1 << 17
_BLOCK = 1 << 14  # elements of a block: its temporaries stay in the cache


def in_blocks(grad, args, blocked, rows_of=None):
    """``grad(*args)`` computed block by block along the first axis of the
    arrays ``args[i]`` (``i`` in ``blocked``; the other arguments go whole),
    the blocks shared among threads: for a gradient that works element by
    element (see ``blocks``).  ``rows_of`` says of each gradient whether it is
    an array's, whose blocks are its rows (else a number's, the sum of the
    blocks'; by default: one gradient, an array's).  ``SOURCEGRAD_THREADS``
    caps the threads (default: the cores this process may use, at most 4)."""
    first = args[blocked[0]]
    step = max(1, _BLOCK * first.shape[0] // max(first.size, 1))
    starts = list(range(0, first.shape[0], step))
    single = rows_of is None
    rows_of = (True,) if single else rows_of

    def block(k):
        part = list(args)
        for i in blocked:
            part[i] = args[i][starts[k]:starts[k] + step]
        found = grad(*part)
        return (found,) if single else found

    head = block(0)
    outs = [np.empty(first.shape[:1] + np.shape(g)[1:], np.result_type(g)) if rows else g
            for g, rows in zip(head, rows_of)]
    for out, g, rows in zip(outs, head, rows_of):
        if rows:
            out[:step] = g
    totals = []  # each thread's sums of the numbers' gradients

    def work(ks):
        sums = [0.0] * len(rows_of)
        for k in ks:
            for j, g in enumerate(block(k)):
                if rows_of[j]:
                    outs[j][starts[k]:starts[k] + step] = g
                else:
                    sums[j] = sums[j] + g
        totals.append(sums)

    _share(work, range(1, len(starts)))
    for sums in totals:
        for j, rows in enumerate(rows_of):
            if not rows:
                outs[j] = outs[j] + sums[j]
    return outs[0] if single else tuple(outs)


def _share(work, items) -> None:
    """``work`` on parts of ``items``, one part per thread (this one too); each
    thread runs in a copy of the caller's context, so NumPy's error settings
    (``np.errstate``) hold there too."""
    count = min(_threads(), len(items))
    parts = [items[k::count] for k in range(count)] if count else []
    errors = []

    def run(part):
        try:
            work(part)
        except BaseException as exc:  # raised again in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(run, p))
               for p in parts[1:]]
    for thread in threads:
        thread.start()
    if parts:
        run(parts[0])
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _threads() -> int:
    explicit = os.environ.get("SOURCEGRAD_THREADS")
    if explicit:
        return max(1, int(explicit))
    try:
        return min(4, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return min(4, os.cpu_count() or 1)
