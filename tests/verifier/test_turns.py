"""verifier.turns: at most N threads hold a turn; a wait gives it to another meanwhile."""

from __future__ import annotations

import threading
import time

import pytest

from verifier.turns import Turns, waiting

WAIT = 5.0


def _most_at_once(turns: Turns, threads: int, work: float, *, wait: float = 0.0) -> int:
    """Run `threads` threads that each hold a turn for `work` seconds, with a wait of `wait`
    seconds in the middle; return how many held a turn at once, at most."""
    lock, inside, most = threading.Lock(), [0], [0]

    def count(step: int) -> None:
        with lock:
            inside[0] += step
            most[0] = max(most[0], inside[0])

    def opening() -> None:
        with turns.held():
            count(+1)
            time.sleep(work / 2)
            if wait:
                count(-1)
                with waiting():
                    time.sleep(wait)
                count(+1)
            time.sleep(work / 2)
            count(-1)

    started = [threading.Thread(target=opening) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(WAIT)
        assert not thread.is_alive(), "a thread never got its turn back"
    return most[0]


def test_no_more_threads_than_turns_run_at_once() -> None:
    assert _most_at_once(Turns(2), threads=8, work=0.02) <= 2


def test_as_many_threads_as_turns_hold_one_together() -> None:
    turns, together = Turns(2), threading.Barrier(2, timeout=WAIT)

    def opening() -> None:
        with turns.held():
            together.wait()  # broken (BrokenBarrierError) unless both hold a turn at once

    threads = [threading.Thread(target=opening) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not together.broken and all(not t.is_alive() for t in threads)


def test_a_wait_gives_the_turn_to_another_thread() -> None:
    turns = Turns(1)
    waiting_now, answered, second_ran = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with turns.held(), waiting():
            waiting_now.set()
            answered.wait(WAIT)  # the chain node has not answered yet

    def second() -> None:
        with turns.held():
            second_ran.set()

    a = threading.Thread(target=first)
    a.start()
    assert waiting_now.wait(WAIT)
    b = threading.Thread(target=second)
    b.start()
    assert second_ran.wait(WAIT)  # while the first still waits, with the only turn given away
    answered.set()
    a.join(WAIT)
    b.join(WAIT)
    assert not a.is_alive() and not b.is_alive()
    assert _most_at_once(turns, threads=4, work=0.01, wait=0.05) == 1


def test_waiting_without_a_turn_and_a_turn_taken_twice_change_nothing() -> None:
    turns = Turns(1)
    with waiting():  # no turn held: nothing to give back
        pass
    with turns.held(), turns.held(), waiting():  # the inner `held` takes no second turn
        pass
    with turns.held():  # the one turn is free again
        pass


def test_a_failure_inside_a_wait_still_frees_the_turn() -> None:
    turns = Turns(1)
    with pytest.raises(RuntimeError), turns.held(), waiting():
        raise RuntimeError("the node did not answer")
    done = threading.Event()
    threading.Thread(target=lambda: (turns.held().__enter__(), done.set())).start()
    assert done.wait(WAIT)


def test_turns_are_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least one turn"):
        Turns(0)
