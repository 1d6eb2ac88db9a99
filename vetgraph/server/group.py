"""`vetgraph serve --processes N`: N server processes on one port, for machines where one process's share of
a core is the limit (distinct queries on small data, docs/performance.md). By default one per usable core
when the data are small (`processes_for`), else one.

The first process validates and stores the data once (as a single server does), reserves the port, and
starts N members: `vetgraph serve` again with the same options, each opening the stored data read-only,
listening on the port with SO_REUSEPORT (the kernel spreads new connections over them) and answering the
queries whose work the data's size bounds in its own event loop (`workers.IN_PROCESS_UP_TO`); every other
query still runs in the member's own pool of killable workers, so time limits hold as in a single server.
Per member: the caches, the fairness among clients and /health (which names its process). The first process
supervises: it stops the members on SIGINT or SIGTERM, starts a member again if one ends, and a member ends
when the first process does (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from vetgraph.errors import CannotRun

if TYPE_CHECKING:  # `serve --help` imports this module: no store library yet
    import pyoxigraph as ox

#: The option that makes `vetgraph serve` a member of a group (not in --help).
MEMBER_OPTION = "--group-member"
RESTART_PAUSE = 1.0  # seconds before a member that ended is started again
#: Seconds a member may take to listen: it opens the stored data and starts its workers (seconds even at 1000x)
START_TIMEOUT = 300.0
#: At most this many members by default: each holds its own app, caches and workers (about 150 MB on the
#: real data), and a few members already keep a few busy clients apart
MAX_AUTO_PROCESSES = 4


def processes_for(store: ox.Store) -> int:
    """The default of --processes: one member per usable core (at most MAX_AUTO_PROCESSES) when the data are
    small enough for members to answer bounded queries themselves (`workers.IN_PROCESS_UP_TO`); else one
    process, whose workers already spread the queries that take long over the cores."""
    from vetgraph.server.workers import IN_PROCESS_UP_TO

    small = next(itertools.islice(store.quads_for_pattern(None, None, None, None), IN_PROCESS_UP_TO, None),
                 None) is None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cores, MAX_AUTO_PROCESSES) if small else 1


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to the port with SO_REUSEPORT and not listening: it keeps a port 0 choice for the
    members (which bind it too) and takes no connections itself."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise CannotRun(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> None:
    """Have `sig` sent to this process when its parent ends, however it ends (PR_SET_PDEATHSIG): a member of
    the group gets SIGTERM, a query worker SIGKILL (workers.py). Exits at once if the parent ended before
    the request took effect."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(sig), 0, 0, 0)
    if os.getppid() == 1:
        os._exit(0)


class Group:
    """The members of `vetgraph serve --processes N`, started with `command` (a `vetgraph serve` command line
    to which MEMBER_OPTION and the member's channels are added: balance.py)."""

    def __init__(self, command: Sequence[str], size: int, start_timeout: float = START_TIMEOUT):
        from vetgraph.server.balance import Channels

        self.command = list(command)
        self.size = size
        self.start_timeout = start_timeout
        self.members: list[subprocess.Popen[str]] = []
        self.stopping = False
        self.channels = Channels.create(size)

    def _start_member(self, index: int) -> subprocess.Popen[str]:
        self.channels.absent(index)  # until it counts its connections itself
        member = subprocess.Popen([*self.command, MEMBER_OPTION, self.channels.option(index)],
                                  stdout=subprocess.PIPE, text=True, pass_fds=self.channels.descriptors())
        assert member.stdout is not None
        # Its "serving at" line, once it listens (a whole line, flushed at once: select, then readline)
        if not select.select([member.stdout], [], [], self.start_timeout)[0]:
            member.kill()
            member.wait()
            raise CannotRun(f"a server process of the group did not start within {self.start_timeout:g} s")
        ready = member.stdout.readline()
        if not ready.startswith("vetgraph serving"):
            member.wait()
            raise CannotRun(f"a server process of the group failed to start (exit code {member.returncode})")
        return member  # it prints nothing more but its second line, which the pipe holds

    def start(self) -> None:
        try:
            for index in range(self.size):
                self.members.append(self._start_member(index))
        except BaseException:
            self.stop()
            raise

    def stop(self, *_: object) -> None:
        self.stopping = True
        for member in self.members:
            with contextlib.suppress(ProcessLookupError):
                member.send_signal(signal.SIGTERM)

    def supervise(self) -> int:
        """Until SIGINT or SIGTERM: keep `size` members running. Then wait for them to end."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        while not self.stopping:
            for index, member in enumerate(self.members):
                if member.poll() is not None and not self.stopping:
                    self.channels.absent(index)  # its peers pass it no more connections
                    print(f"vetgraph serve: server process {member.pid} ended (exit code {member.returncode}); "
                          "starting another", file=sys.stderr, flush=True)
                    time.sleep(RESTART_PAUSE)
                    with contextlib.suppress(CannotRun):
                        self.members[index] = self._start_member(index)
            time.sleep(0.5)
        for member in self.members:
            try:
                member.wait(timeout=10)
            except subprocess.TimeoutExpired:
                member.kill()
                member.wait()
        self.channels.close()
        return 0

