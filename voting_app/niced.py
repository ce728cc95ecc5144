"""Heavy work done in a short-lived child process at the lowest CPU priority.

A gunicorn worker cannot lower its own priority for a while and raise it again afterwards:
raising it needs a privilege (RLIMIT_NICE is 0 in production). A forked child lowers its own,
does the work, hands back bytes through a pipe and exits, so the work (a large photo's
decode) takes only the CPU time that nothing else wants, and every byte of memory it used goes
back to the system at the exit.

The child leaves the parent's world alone: it closes its copies of the parent's descriptors
(database connections, the client's socket, lock files), so none of them outlives the worker
through it; it dies with the worker; and it ends with os._exit, so no atexit handler, buffered
output, finaliser or logging handler of the parent runs in it.
"""

import ctypes
import gc
import logging
import os
import select
import signal
import time
from collections.abc import Callable
from typing import NoReturn

_PR_SET_PDEATHSIG = 1
_PRCTL = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)
_CHUNK = 1024 * 1024


class ChildFailed(Exception):
    """The child gave no result: it ran out of time, failed or was killed (by the kernel's
    out-of-memory killer, a signal). Nothing of its work is kept."""


def run_niced(work: Callable[[], bytes], seconds: float) -> bytes:
    """Run `work` in a forked child at the lowest priority and return the bytes it returns.

    The child is killed after `seconds`; that, or any end of the child without its whole
    result, raises ChildFailed. Meant for a single-threaded process (a sync worker): a fork
    copies only the calling thread, and the child dies when that thread ends.
    """
    deadline = time.monotonic() + seconds
    read_end, write_end = os.pipe()
    parent = os.getpid()
    collecting = gc.isenabled()
    gc.disable()  # from before the fork: no collection in the child runs a finaliser of the parent's garbage
    try:
        pid = os.fork()
    except OSError as error:  # out of memory or of processes: no child, the same refusal
        os.close(read_end)
        os.close(write_end)
        raise ChildFailed(f"no child started: {error}") from error
    finally:
        if collecting and os.getpid() == parent:
            gc.enable()
    if pid == 0:
        os.close(read_end)
        _child(work, write_end, parent)
    os.close(write_end)
    reaped = False
    try:
        output = _read_all(read_end, deadline)
        if output is None:
            raise ChildFailed(f"no result within {seconds:g} s")
        status = os.waitpid(pid, 0)[1]
        reaped = True
        if os.waitstatus_to_exitcode(status) != 0:
            raise ChildFailed(_ending(status))
        return output
    finally:
        os.close(read_end)
        if not reaped:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _read_all(read_end: int, deadline: float) -> bytes | None:
    """Everything the child writes until it closes the pipe (at its exit), or None at the deadline."""
    chunks = []
    poller = select.poll()
    poller.register(read_end, select.POLLIN)
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            return None
        chunk = os.read(read_end, _CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _ending(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"failed (exit status {code})"


def _child(work: Callable[[], bytes], write_end: int, parent: int) -> NoReturn:
    """Everything the child does; whatever happens in it, it ends here, through os._exit."""
    status = 1
    try:
        _lower_priority()
        logging.disable()
        _die_with(parent)
        for number in signal.valid_signals():
            if callable(signal.getsignal(number)):  # the worker's handlers (gunicorn's reload, quit...)
                signal.signal(number, signal.SIG_DFL)
        os.closerange(3, write_end)
        os.closerange(write_end + 1, os.sysconf("SC_OPEN_MAX"))
        output = memoryview(work())
        while output:
            output = output[os.write(write_end, output):]
        status = 0
    finally:
        os._exit(status)


def _die_with(parent: int) -> None:
    """A worker killed by gunicorn (timeout) or by hand takes its child along at once."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the worker ended before the request above was made
        os._exit(1)


def _lower_priority() -> None:
    """Nice 19, and SCHED_IDLE where the system allows it: the child then runs only on a core
    that nothing else at normal priority wants, so a ballot never waits behind it."""
    os.nice(19)
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError:  # PermissionError included: some sandboxes refuse it; nice 19 stays
        pass
