"""Work in a niced child process: its result comes back whole, and any other ending of the
child (a failure, a kill, too long a run) is a ChildFailed with no child left behind."""

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from voting_app.niced import ChildFailed, run_niced


def child_pids() -> set[int]:
    """This process's children, an unreaped (zombie) one included."""
    return {int(pid) for children in Path("/proc/self/task").glob("*/children") for pid in children.read_text().split()}


@pytest.fixture
def no_child_left():
    """Whether the test left no child of its own: a test process may hold others' (servers)."""
    before = child_pids()
    return lambda: child_pids() <= before


def stat_of_self() -> bytes:
    """The child's own nice value and scheduling policy, as /proc shows them to anyone."""
    fields = open("/proc/self/stat").read().rsplit(") ", 1)[1].split()
    return f"{fields[16]} {fields[38]}".encode()


def test_a_result_larger_than_a_pipe_holds_comes_back_whole(no_child_left):
    result = os.urandom(5 * 1024 * 1024)

    assert run_niced(lambda: result, 20) == result
    assert no_child_left()


def test_the_child_runs_at_the_lowest_priority_and_the_parent_keeps_its_own():
    own = os.getpriority(os.PRIO_PROCESS, 0)
    if own == 19:
        pytest.skip("this process already runs at nice 19: a child at 19 would prove nothing")

    assert run_niced(stat_of_self, 20) == f"19 {os.SCHED_IDLE}".encode()
    assert os.getpriority(os.PRIO_PROCESS, 0) == own and os.sched_getscheduler(0) != os.SCHED_IDLE


def test_the_child_closes_its_copies_of_the_parents_descriptors():
    """A database connection or the client's socket must not outlive the worker in its child.
    The pipe to the child takes the two lowest free numbers, freed here between a descriptor
    opened before them and one after, so both sides of the pipe are checked."""
    with open(__file__, "rb") as lock_file:
        spare = [os.open(os.devnull, os.O_RDONLY) for _ in range(2)]
        with socket.socket() as connection:
            for fd in spare:
                os.close(fd)
            descriptors = (lock_file.fileno(), connection.fileno())

            def still_open() -> bytes:
                return repr([_is_open(fd) for fd in descriptors]).encode()

            assert run_niced(still_open, 20) == b"[False, False]"
            assert all(_is_open(fd) for fd in descriptors)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_a_child_that_raises_fails_and_the_error_stays_in_it(no_child_left):
    def broken() -> bytes:
        raise MemoryError

    with pytest.raises(ChildFailed, match="exit status 1"):
        run_niced(broken, 20)
    assert no_child_left()


def test_a_child_killed_by_a_signal_fails(no_child_left):
    """As when the kernel's out-of-memory killer picks it."""

    def killed() -> bytes:
        os.kill(os.getpid(), signal.SIGKILL)
        return b"never"

    with pytest.raises(ChildFailed, match="killed by SIGKILL"):
        run_niced(killed, 20)
    assert no_child_left()


def test_a_child_past_its_time_is_killed_and_waited_for(no_child_left):
    started = time.monotonic()

    with pytest.raises(ChildFailed, match="no result within 0.3 s"):
        run_niced(lambda: time.sleep(30) or b"late", 0.3)
    assert time.monotonic() - started < 5
    assert no_child_left()


def running(pid: int) -> bool:
    """Whether the process runs still: a dead one may linger as a zombie until someone reaps it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_worker_killed_in_the_middle_takes_its_child_along(tmp_path):
    """gunicorn kills a worker past its timeout with SIGKILL: its child must not run on,
    holding the decode's memory and CPU (and the client's socket) with nobody to answer."""
    said = tmp_path / "child"

    def slow() -> bytes:
        (tmp_path / "starting").write_text(str(os.getpid()))
        os.replace(tmp_path / "starting", said)
        time.sleep(30)
        return b"late"

    worker = os.fork()
    if worker == 0:
        try:
            run_niced(slow, 60)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 10
    while not said.exists():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.01)
    child = int(said.read_text())
    assert running(child)
    os.kill(worker, signal.SIGKILL)
    os.waitpid(worker, 0)
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not running(child)
