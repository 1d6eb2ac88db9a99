"""Even load over the members of `vetgraph serve --processes N` (group.py): the kernel spreads new
connections over the members' SO_REUSEPORT sockets by a hash of the client's address and port, so four
keep-alive clients land 2/2 on two members only three times in eight, and all on one member once in eight
(which then does the work of both: docs/performance.md). A member that accepts a connection while a peer has
fewer open passes it on: the connection's descriptor goes to the peer over a Unix socket (SCM_RIGHTS) before
a byte of it is read, and the peer serves it as if it had accepted it.

What the members share, set up by the group's first process and inherited by each member:
* a small shared file of counters, a row per member, each written by its owner alone: its process id (0,
  `ABSENT`, while it is not running: nobody passes connections to it), its open connections, and how many
  connections it took in from each peer. A member knows how many it passed to each peer; the difference is
  what is still on the way, so a burst of new connections is spread right before the peer counts them;
* one datagram socket pair per member: its inbox (the receiving end) and the sending end its peers write to.

A connection is passed on at most once (a member serves what it received), and only while that leaves the
two members closer to even; every failure to pass one on leaves it with the member that accepted it.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import mmap
import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

#: The process id in a member's row while it is not running.
ABSENT = 0
_SLOT = array.array("i").itemsize
_PID, _OPEN, _TAKEN = 0, 1, 2  # a row: process id, open connections, then taken in from each peer


def _row_size(size: int) -> int:
    return _TAKEN + size


@dataclass
class Channels:
    """What the first process of a group creates for `size` members and keeps open while they run (a member
    that is started again gets the same)."""

    size: int
    counters: int  # descriptor of the shared file of counters
    inboxes: list[socket.socket]  # receiving ends, one per member
    outboxes: list[socket.socket]  # sending ends, one per member

    @classmethod
    def create(cls, size: int) -> Channels:
        with tempfile.TemporaryFile() as file:  # unlinked at once; the descriptor is what the members share
            file.write(array.array("i", [0] * size * _row_size(size)).tobytes())
            file.flush()
            counters = os.dup(file.fileno())
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM) for _ in range(size)]
        return cls(size, counters, [inbox for inbox, _ in pairs], [outbox for _, outbox in pairs])

    def descriptors(self) -> list[int]:
        """Every descriptor a member inherits."""
        return [self.counters, *(s.fileno() for s in (*self.inboxes, *self.outboxes))]

    def option(self, index: int) -> str:
        """The value of the member option that tells member `index` its channels."""
        return ":".join([str(index), str(self.counters), str(self.inboxes[index].fileno()),
                         ",".join(str(s.fileno()) for s in self.outboxes)])

    def absent(self, index: int) -> None:
        """Mark member `index` as not running (it ended; its successor marks itself present)."""
        with _Counters(self.counters, self.size) as counters:
            counters[index * _row_size(self.size) + _PID] = ABSENT

    def close(self) -> None:
        os.close(self.counters)
        for sock in (*self.inboxes, *self.outboxes):
            sock.close()


class _Counters:
    """The shared counters, mapped."""

    def __init__(self, descriptor: int, size: int):
        self._map = mmap.mmap(descriptor, size * _row_size(size) * _SLOT)
        self.values = memoryview(self._map).cast("i")

    def __enter__(self) -> memoryview:
        return self.values

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.values.release()
        self._map.close()


@dataclass
class Balancer:
    """One member's side: publishes its open connections, picks a peer for a new connection, passes it on,
    and takes in the connections its peers pass to it."""

    index: int
    counters: _Counters
    inbox: socket.socket
    outboxes: list[socket.socket]
    #: connections passed to each peer, and the process id of the peer they went to (set up from `outboxes`)
    _passed: list[int] = field(init=False)
    _passed_to: list[int] = field(init=False)
    _row: int = field(init=False)  # counters per member

    @classmethod
    def from_option(cls, value: str) -> Balancer:
        """The balancer of the member that `Channels.option` describes."""
        try:
            index_text, counters_text, inbox_text, outboxes_text = value.split(":")
            index, counters, inbox = int(index_text), int(counters_text), int(inbox_text)
            outboxes = [int(fd) for fd in outboxes_text.split(",")]
        except ValueError:
            raise ValueError(f"not a member's channels: {value!r}") from None
        return cls(index, _Counters(counters, len(outboxes)),
                   socket.socket(fileno=inbox), [socket.socket(fileno=fd) for fd in outboxes])

    def __post_init__(self) -> None:
        size = len(self.outboxes)
        self._row = _row_size(size)
        self._passed = [0] * size
        self._passed_to = [ABSENT] * size
        self.inbox.setblocking(False)
        for outbox in self.outboxes:
            outbox.setblocking(False)

    def present(self, pid: int | None = None) -> None:
        """Tell the peers this member runs (as `pid`, default this process) and takes connections."""
        start = self.index * self._row
        for column in range(_OPEN, self._row):
            self.counters.values[start + column] = 0
        self.counters.values[start + _PID] = os.getpid() if pid is None else pid

    def publish(self, open_connections: int) -> None:
        self.counters.values[self.index * self._row + _OPEN] = open_connections

    def on_the_way(self, peer: int) -> int:
        """Connections passed to `peer` that it has not taken in yet."""
        row = self.counters.values[peer * self._row:(peer + 1) * self._row]
        if row[_PID] != self._passed_to[peer]:  # a peer started (again): nothing passed to it so far
            self._passed_to[peer], self._passed[peer] = row[_PID], 0
        return max(0, self._passed[peer] - row[_TAKEN + self.index])

    def peer_for(self, open_here: int) -> int | None:
        """The member to pass a new connection to, given this member's open connections (without the new
        one): the least loaded peer, if passing it on leaves the two closer to even; else None."""
        best, best_load = None, open_here  # only to a peer with fewer: with as many, 1 more there = 1 more here
        for peer in range(len(self.outboxes)):
            if peer == self.index or self.counters.values[peer * self._row + _PID] == ABSENT:
                continue
            load = self.counters.values[peer * self._row + _OPEN] + self.on_the_way(peer)
            if load < best_load:
                best, best_load = peer, load
        return best

    def pass_on(self, peer: int, connection: socket.socket) -> bool:
        """Send the connection's descriptor to `peer`; False if it could not be sent (it stays here)."""
        try:
            socket.send_fds(self.outboxes[peer], [str(self.index).encode()], [connection.fileno()])
        except OSError:  # the peer's inbox is full, or the descriptor is gone
            return False
        self.on_the_way(peer)  # counted for the peer's process as it is now
        self._passed[peer] += 1
        return True

    def took_in(self, peer: int) -> None:
        """Count a connection from `peer` as taken in (once it counts among the open ones)."""
        self.counters.values[self.index * self._row + _TAKEN + peer] += 1

    def take_in(self, loop: asyncio.AbstractEventLoop, serve: Callable[[socket.socket, int], object]) -> None:
        """Serve (`serve(sock, peer)`) the connections peers pass to this member, as they arrive."""
        loop.add_reader(self.inbox.fileno(), self._receive, serve)

    def stop_taking_in(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.remove_reader(self.inbox.fileno())

    def _receive(self, serve: Callable[[socket.socket, int], object]) -> None:
        while True:
            try:
                message, descriptors, _, _ = socket.recv_fds(self.inbox, 16, 8)
            except (BlockingIOError, InterruptedError):
                return
            for descriptor in descriptors:
                connection = socket.socket(fileno=descriptor)
                connection.setblocking(False)
                with contextlib.suppress(OSError):
                    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                serve(connection, int(message))
