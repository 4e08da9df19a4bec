"""The cut-over's flow on in-memory servers: the pause, the catch-up, the verification, the
sequences, and what a failure puts back."""

from __future__ import annotations

import pytest

from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.cutover import cutover
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.errors import PgMoveError
from ansible_collections.sigma.deploy.plugins.module_utils.pgmove.move import (
    Options,
    absent,
    verify,
)
from tests.unit.plugins.pg_move_fakes import READ_ONLY, FakeServer

NOTES = ("public", "notes")
SEQ = ("public", "notes_id_seq")
PAUSE = 'ALTER ROLE "app" IN DATABASE "app" SET default_transaction_read_only = on'
RESUME = 'ALTER ROLE "app" IN DATABASE "app" RESET default_transaction_read_only'


@pytest.fixture
def servers():
    """A source replicating to a target that has caught up with every row."""
    rows = [(1, "a"), (2, "b")]
    source = FakeServer("source", {NOTES: rows}, {SEQ: (2, True)})
    target = FakeServer("target", {NOTES: rows}, {SEQ: (1, False)})
    source.publications.add("sigma_move")
    source.slots["sigma_move"] = "0/100"
    target.subscriptions["sigma_move"] = True
    target.peer = source
    return source, target


def options(clock, **overrides) -> Options:
    settings = {"name": "sigma_move", "app_roles": ["app"], **overrides}
    return Options(clock=clock, sleep=clock.sleep, **settings)


def test_cutover_pauses_verifies_syncs_and_drops(servers, clock):
    source, target = servers
    changed, move = cutover(source, target, options(clock), check_mode=False)
    assert changed is True
    assert source.executed[0] == PAUSE
    assert source.roles["app"] == [READ_ONLY]
    assert move["source_writes"] == "paused"
    assert move["sessions_ended"] == 2
    assert move["tables"][0]["match"] is True
    assert move["sequences"] == [
        {"sequence": "public.notes_id_seq", "last_value": 2, "is_called": True}
    ]
    assert target.sequence_state[SEQ] == (2, True)
    assert target.subscriptions == {}
    assert source.publications == set()
    assert source.slots == {}
    assert move["write_pause_s"] == 0.0
    assert move["target_opened"] == []


def test_check_mode_changes_nothing(servers, clock):
    source, target = servers
    changed, move = cutover(source, target, options(clock), check_mode=True)
    assert changed is True
    assert move["write_pause_s"] is None
    assert source.executed == []
    assert target.executed == []


def test_a_mismatch_resumes_writes_and_keeps_the_subscription(servers, clock):
    source, target = servers
    target.rows_of[NOTES].append((3, "only on the target"))
    with pytest.raises(PgMoveError) as caught:
        cutover(source, target, options(clock), check_mode=False)
    assert "source and target differ after catch-up: public.notes (rows 2 vs 3)" in str(
        caught.value
    )
    assert source.executed == [PAUSE, RESUME]
    assert source.roles["app"] == []
    assert caught.value.result["source_writes"] == "open"
    assert caught.value.result["write_pause_s"] == 0.0
    assert target.subscriptions == {"sigma_move": True}
    assert target.sequence_state[SEQ] == (1, False)


def test_a_target_that_does_not_catch_up_times_out_and_resumes(servers, clock):
    source, target = servers
    source.lsn = "0/200"  # the slot stays at 0/100
    with pytest.raises(PgMoveError) as caught:
        cutover(source, target, options(clock, catchup_timeout=2), check_mode=False)
    assert caught.value.field == "catchup_timeout"
    assert "confirmed 0/100, source at 0/200" in caught.value.message
    assert caught.value.result["write_pause_s"] == 2.0
    assert source.roles["app"] == []


def test_a_failed_resume_says_what_to_run(servers, clock):
    source, target = servers
    target.rows_of[NOTES].append((3, "x"))
    source.fail_on = 'ALTER ROLE "app" IN DATABASE "app" RESET'
    with pytest.raises(PgMoveError) as caught:
        cutover(source, target, options(clock), check_mode=False)
    assert caught.value.result["source_writes"] == "paused"
    assert caught.value.message.endswith(f"run {RESUME}")


def test_a_done_cutover_is_not_done_again(servers, clock):
    source, target = servers
    cutover(source, target, options(clock), check_mode=False)
    source.executed.clear()
    changed, move = cutover(source, target, options(clock), check_mode=False)
    assert changed is False
    assert move["source_writes"] == "paused"
    assert source.executed == []


def test_without_subscription_and_unpaused_source_prepare_first(servers, clock):
    source, target = servers
    target.subscriptions.clear()
    with pytest.raises(PgMoveError) as caught:
        cutover(source, target, options(clock), check_mode=False)
    assert caught.value.field == "state"
    assert "run state=prepared first" in caught.value.message


def test_a_table_still_copying_refuses_the_cutover(servers, clock):
    source, target = servers
    target.sync_states[NOTES] = "d"
    with pytest.raises(PgMoveError, match=r"still copying: public\.notes \(d\)"):
        cutover(source, target, options(clock), check_mode=False)
    assert source.executed == []


def test_an_unknown_app_role_is_named(servers, clock):
    source, target = servers
    with pytest.raises(PgMoveError) as caught:
        cutover(source, target, options(clock, app_roles=["ghost"]), check_mode=False)
    assert caught.value.field == "app_roles"
    assert "the role ghost (app_roles) does not exist on the source" in caught.value.message


def test_the_way_back_opens_the_roles_on_the_target(servers, clock):
    source, target = servers
    target.roles["app"] = [READ_ONLY]  # paused there by the move up
    _changed, move = cutover(source, target, options(clock), check_mode=False)
    assert move["target_opened"] == ["app"]
    assert target.roles["app"] == []


def test_absent_drops_what_is_left_once(servers, clock):
    source, target = servers
    changed, move = absent(source, target, options(clock), check_mode=True)
    assert changed is True
    assert move["dropped"] == ["subscription sigma_move", "publication sigma_move"]
    assert target.subscriptions == {"sigma_move": True}
    changed, _move = absent(source, target, options(clock), check_mode=False)
    assert changed is True
    assert (target.subscriptions, source.publications, source.slots) == ({}, set(), {})
    assert absent(source, target, options(clock), check_mode=False)[0] is False


def test_verified_compares_and_changes_nothing(servers, clock):
    source, target = servers
    with pytest.raises(PgMoveError) as caught:  # the target's sequence is behind
        verify(source, target, options(clock))
    assert caught.value.message == "source and target differ: sequence public.notes_id_seq (2 vs 1)"
    assert caught.value.result["tables"][0]["match"] is True
    target.sequence_state[SEQ] = (2, True)
    changed, move = verify(source, target, options(clock))
    assert changed is False
    assert [row["table"] for row in move["tables"]] == ["public.notes"]
    assert source.executed == target.executed == []
