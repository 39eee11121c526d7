"""Signing processes end with the process that started them, however it dies (even SIGKILL).

The fork server preloads this module, so importing it arms the fork server itself; each worker
arms itself again in its initializer (the kernel clears the setting at fork).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent ends (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # not allowed here (a sandbox): the pipes' end-of-file still stops the pool
    if os.getppid() == 1:  # the parent died before the line above: nobody waits for us
        os._exit(1)


if __name__ != "__main__":
    die_with_parent()
