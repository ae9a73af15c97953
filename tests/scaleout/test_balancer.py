"""The gateway's choice of instance: round-robin per service, rests, rendezvous-hashed rooms."""

import uuid
from collections import Counter

import pytest

from gateway.balancer import Balancer, Instances
from services.common.rendezvous import owner

A, B, C = "http://a:8003", "http://b:8003", "http://c:8003"


def test_one_url_or_a_list_configures_a_service() -> None:
    urls = Instances({"consult": "http://a:8001/", "video": [A, B + "/"]})
    assert urls == {"consult": ("http://a:8001",), "video": (A, B)}
    urls["files"] = "http://f:8002"  # as tests swap a service for a stopped one
    assert urls["files"] == ("http://f:8002",)
    with pytest.raises(ValueError, match="at least one"):
        urls["scheduling"] = []


def test_round_robin_is_per_service() -> None:
    chooser = Balancer(rest_seconds=5)
    picks = []
    for _ in range(4):  # interleaved services do not make either stick to one instance
        picks.append(chooser.choose("consult", (A, B)))
        chooser.choose("files", (C, A))
    assert picks == [A, B, A, B]


def test_a_resting_instance_is_skipped_until_its_rest_ends() -> None:
    now = [1000.0]
    chooser = Balancer(rest_seconds=5, clock=lambda: now[0])
    chooser.rest(A)
    assert {chooser.choose("consult", (A, B)) for _ in range(4)} == {B}
    assert chooser.resting() == {A}
    now[0] += 5
    assert {chooser.choose("consult", (A, B)) for _ in range(4)} == {A, B}
    assert chooser.resting() == set()


def test_when_every_instance_rests_all_are_still_tried() -> None:
    chooser = Balancer(rest_seconds=5)
    chooser.rest(A)
    chooser.rest(B)
    assert {chooser.choose("consult", (A, B)) for _ in range(4)} == {A, B}


def test_fallback_tries_each_other_instance_once_preferring_awake_ones() -> None:
    chooser = Balancer(rest_seconds=5)
    chooser.rest(B)
    assert chooser.fallback("consult", (A, B, C), None, (A,)) == C
    assert chooser.fallback("consult", (A, B, C), None, (A, C)) == B  # resting, but untried
    assert chooser.fallback("consult", (A, B, C), None, (A, B, C)) is None


def test_a_room_has_one_owner_and_losing_an_instance_moves_only_its_rooms() -> None:
    rooms = [str(uuid.uuid4()) for _ in range(300)]
    three = {room: owner((A, B, C), room) for room in rooms}
    assert set(Counter(three.values())) == {A, B, C}
    assert min(Counter(three.values()).values()) > 50  # spread, roughly a third each
    for room, was in three.items():
        now = owner((A, B), room)
        assert now == was or was == C, "a room of a remaining instance moved"
    chooser = Balancer(rest_seconds=5)
    assert all(chooser.choose("video", (A, B, C), room) == three[room] for room in rooms)
    chooser.rest(C)  # C refused a connection: its rooms go to their second choice
    assert all(chooser.choose("video", (A, B, C), room) == owner((A, B), room) for room in rooms)
    # The order instances are listed in does not matter.
    assert all(owner((C, B, A), room) == three[room] for room in rooms)
