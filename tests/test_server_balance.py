"""Passing connections between the members of `serve --processes N` (vetgraph.server.balance): which peer
gets a new connection, counting the ones on the way, a peer that starts again, and a TCP connection that
survives the hand-over (the accepting member closes its descriptor, the peer talks to the client). In one
process, on real sockets."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from vetgraph.server.balance import Balancer, Channels, _Counters


@pytest.fixture
def channels() -> Iterator[Channels]:
    made = Channels.create(3)
    yield made
    made.close()


@pytest.fixture
def members(channels: Channels) -> Iterator[list[Balancer]]:
    balancers = [Balancer(i, _Counters(channels.counters, 3), channels.inboxes[i], channels.outboxes)
                 for i in range(3)]
    for number, balancer in enumerate(balancers):
        balancer.present(pid=1000 + number)
    yield balancers
    for balancer in balancers:
        balancer.counters.close()


def test_no_connection_goes_to_a_member_that_is_not_running(channels: Channels, members: list[Balancer]) -> None:
    first, _, _ = members
    first.publish(5)
    channels.absent(1)
    channels.absent(2)
    assert first.peer_for(5) is None
    members[2].present(pid=2002)
    assert first.peer_for(5) == 2


def test_a_connection_goes_to_the_least_loaded_peer_only_if_that_evens_the_load(members: list[Balancer]) -> None:
    first, second, third = members
    for balancer, count in ((first, 1), (second, 1), (third, 0)):
        balancer.publish(count)
    assert first.peer_for(0) is None  # it has fewer than anyone
    assert first.peer_for(1) == 2  # 1 here, 0 there: 1 + 1 against 0 + 1 would be even
    third.publish(1)
    assert first.peer_for(1) is None  # all even: keep it
    assert first.peer_for(2) in (1, 2)


def test_a_burst_is_spread_by_counting_what_is_on_the_way(channels: Channels, members: list[Balancer]) -> None:
    first, second, _ = members
    channels.absent(2)
    listener, client, accepted = _connection()
    with listener, client, accepted:
        first.publish(3)
        assert first.peer_for(3) == 1 and first.pass_on(1, accepted)
        assert first.peer_for(3) == 1 and first.pass_on(1, accepted)  # 0 open + 1 on the way < 3
        assert first.on_the_way(1) == 2
        assert first.peer_for(2) is None  # 0 + 2 on the way against 2
        taken = _drain(second)
        assert len(taken) == 2
        second.publish(1)
        second.took_in(0)
        assert first.on_the_way(1) == 1 and first.peer_for(2) is None  # 1 open + 1 on the way
        second.publish(2)
        second.took_in(0)
        assert first.on_the_way(1) == 0 and first.peer_for(3) == 1
        # The peer's count went back to what it was before: nothing stays counted as on the way.
        second.publish(0)
        assert first.on_the_way(1) == 0 and first.peer_for(1) == 1
        for sock in taken:
            sock.close()


def test_a_peer_that_starts_again_has_nothing_on_the_way(members: list[Balancer]) -> None:
    first, second, _ = members
    listener, client, accepted = _connection()
    with listener, client, accepted:
        assert first.pass_on(1, accepted)
        assert first.on_the_way(1) == 1
        second.present(pid=4242)  # a new process in its place
        assert first.on_the_way(1) == 0
        for sock in _drain(second):
            sock.close()


def test_a_passed_connection_is_served_by_the_peer_after_the_first_member_closed_it(members: list[Balancer]) -> None:
    first, second, _ = members
    listener, client, accepted = _connection()
    with listener, client:
        assert first.pass_on(1, accepted)
        accepted.close()  # what the first member does once it is passed on
        received: list[tuple[socket.socket, int]] = []
        second._receive(lambda sock, peer: received.append((sock, peer)))
        assert [peer for _, peer in received] == [0]
        with received[0][0] as served:
            client.sendall(b"ping")
            served.setblocking(True)
            assert served.recv(4) == b"ping"
            served.sendall(b"pong")
            assert client.recv(4) == b"pong"


def test_a_connection_that_cannot_be_passed_on_stays(members: list[Balancer]) -> None:
    gone = socket.socket()
    gone.close()
    assert not members[0].pass_on(1, gone)
    assert members[0].on_the_way(1) == 0


def test_a_malformed_member_option_is_named() -> None:
    with pytest.raises(ValueError, match="not a member's channels: '1:2'"):
        Balancer.from_option("1:2")


def _connection() -> tuple[socket.socket, socket.socket, socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname(), timeout=5)
    accepted, _ = listener.accept()
    return listener, client, accepted


def _drain(balancer: Balancer) -> list[socket.socket]:
    received: list[socket.socket] = []
    balancer._receive(lambda sock, peer: received.append(sock))
    return received
