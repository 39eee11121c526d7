"""Turns at the interpreter: at most a few of a server's threads run Python at once, and a
thread that waits on the network gives its turn to another meanwhile.

CPython runs one thread's Python at a time. With ten requests on ten threads all ready to run,
handing the interpreter round costs more than the work: one server process answered about 210
share openings a second to ten clients on AnyIO's forty threads, and about 320 with two.
Fewer threads would stall on the waits, though: an opening also waits on the chain node and on
the blob store (S3 in production). So the threads stay, and each opening takes a turn for its
Python work and gives it back around those waits (`waiting`).

Deadlock-free by construction, as long as two rules hold: a thread never waits for a turn while
it holds a lock or a database connection that a turn's holder may need (`waiting` is only used
around the blob read and the RPC, where the opening holds neither), and the locks taken with a
turn held are released without waiting for one (true of the caches and of `write_turn`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Turns:
    """`count` turns, shared by the threads of one process."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError("at least one turn")
        self.count = count
        self._free = threading.Semaphore(count)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Run the block with a turn (waiting for one first); `waiting` inside gives it back."""
        if getattr(_local, "turns", None) is not None:
            yield  # already holding one: a turn is not taken twice
            return
        self._free.acquire()
        _local.turns, _local.holding = self, True
        try:
            yield
        finally:
            holding = _local.holding
            _local.turns, _local.holding = None, False
            if holding:
                self._free.release()

    def _give_back(self) -> None:
        _local.holding = False
        self._free.release()

    def _take_again(self) -> None:
        self._free.acquire()
        _local.holding = True


_local = threading.local()


@contextmanager
def waiting() -> Iterator[None]:
    """Around a wait on the network: this thread's turn, if it holds one, goes to another
    thread meanwhile, and is taken again after (nothing happens without a turn held)."""
    turns: Turns | None = getattr(_local, "turns", None)
    if turns is None or not getattr(_local, "holding", False):
        yield
        return
    turns._give_back()
    try:
        yield
    finally:
        turns._take_again()
