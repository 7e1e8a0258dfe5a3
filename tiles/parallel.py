"""Share CPU-bound work among forked worker processes: idle-core detection, workers that die with
their parent, and an ordered map whose failed shares are redone in this process.

Workers are forked so they inherit the inputs copy-on-write (nothing is pickled on the way in);
only results travel back through a pipe. Forking is only safe in a process with no other thread
(a lock held by another thread would stay locked in the child forever), so elsewhere, or with one
idle core, the work runs in this process.
"""

from __future__ import annotations

import ctypes
import mmap
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
PR_SET_PDEATHSIG = 1  # <sys/prctl.h>
IDLE_SAMPLE_S = 0.02  # 2 clock ticks per core: coarse, enough to tell busy from idle (and a fixed cost of every fork_map)
RESULT_BUFFER_BYTES = 1 << 28  # per worker; larger results go through the pipe


def idle_cores() -> int:
    """The cores this process may use that are idle now (at least 1).

    Measured now, over IDLE_SAMPLE_S of /proc/stat: the 1-minute load average lags by a minute and
    counts this very process, so right after a heavy step (a previous conversion, a GIS import) it
    reported a busy machine that was idle. Extra workers on busy cores only add overhead (measured
    here: with every core busy, two took 1.3-3x as long as one on every fixture).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = multiprocessing.cpu_count()
    return max(1, min(round(_idle_cores(cores)), cores))


def _idle_cores(cores: int) -> float:
    """How many cores were idle over the last IDLE_SAMPLE_S (the load average where /proc is missing)."""
    try:
        before = _cpu_times()
        time.sleep(IDLE_SAMPLE_S)
        after = _cpu_times()
    except (OSError, ValueError, IndexError):
        try:
            return float(cores - int(os.getloadavg()[0]))
        except OSError:
            return float(cores)
    total = sum(after) - sum(before)
    idle = (after[3] + after[4]) - (before[3] + before[4])  # idle + iowait
    return cores * idle / total if total > 0 else float(cores)


def _cpu_times() -> list[int]:
    """The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal, in ticks."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()
    if fields[0] != "cpu":
        raise ValueError("unexpected /proc/stat")
    return [int(value) for value in fields[1:9]]


def die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this worker when its parent dies (a conversion stopped with SIGKILL on a
    timeout or a service crash), so no orphan goes on working for nobody."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the worker ends when it finds its pipe closed
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def can_fork() -> bool:
    """Whether forking workers is safe here: Linux-style fork available and no other thread running."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def fork_map(function: Callable[[Item], Result], items: Sequence[Item], *, min_items_per_worker: int = 1,
             workers: int | None = None) -> list[Result]:
    """[function(item) for item in items], shared among this process and forked workers (default: idle cores).

    Shares are interleaved (item k goes to worker k mod n), which balances items of uneven cost
    that come in some order (large tiles first). A worker that raises or dies has its share redone
    here, so a real error is raised in this process with its own traceback, and nothing hangs.
    """
    most = len(items) // max(min_items_per_worker, 1)
    if most < 2 or not can_fork():
        return [function(item) for item in items]
    count = min(workers or idle_cores(), most)
    if count < 2:
        return [function(item) for item in items]
    shares = [range(k, len(items), count) for k in range(count)]
    context = multiprocessing.get_context("fork")
    running: list[tuple[int, Connection, multiprocessing.process.BaseProcess, mmap.mmap]] = []
    results: list = [None] * len(items)
    try:
        for k in range(1, count):
            receiver, sender = context.Pipe(duplex=False)
            # Results come back through shared memory: through the pipe, 40 MB of tiles took 0.1 s
            # and the worker waited for this process to finish its own share before it could send.
            shared = mmap.mmap(-1, RESULT_BUFFER_BYTES)  # shared and anonymous; pages used only when written
            process = context.Process(target=_work, args=(sender, shared, os.getpid(), function, items, shares[k]), daemon=True)
            process.start()
            sender.close()  # so recv() sees EOF if the worker dies
            running.append((k, receiver, process, shared))
        for i in shares[0]:
            results[i] = function(items[i])
        while running:
            k, receiver, process, shared = running.pop(0)
            try:
                values = _receive(receiver, shared)
            except EOFError:  # the worker died (killed, out of memory): redo its share here
                values = None
            receiver.close()
            shared.close()
            process.join()
            if values is None:
                values = [function(items[i]) for i in shares[k]]
            for i, value in zip(shares[k], values):
                results[i] = value
    finally:
        for _, receiver, process, shared in running:  # an error here: stop the workers still running
            process.kill()
            process.join()
            receiver.close()
            shared.close()
    return results


def _receive(receiver: Connection, shared: mmap.mmap) -> list | None:
    """A worker's results: from shared memory when the pipe says how many bytes, else from the pipe itself."""
    message = receiver.recv()
    if isinstance(message, int):
        return pickle.loads(shared[:message])
    return message


def _work(connection: Connection, shared: mmap.mmap, parent: int, function: Callable, items: Sequence, share: range) -> None:
    """Worker: apply `function` to its share of the inherited items and hand the results back (None on error)."""
    die_with_parent(parent)
    try:
        values = [function(items[i]) for i in share]
    except BaseException:  # the parent redoes this share and raises the error with its traceback
        connection.send(None)
        return
    data = pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) <= len(shared):
        shared[: len(data)] = data
        connection.send(len(data))
    else:  # larger than the shared buffer: through the pipe
        connection.send(values)
    connection.close()
