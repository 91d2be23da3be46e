"""Poll storage on a real SQLite file: uniqueness of proposals and votes, concurrent votes, closing once."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.polls import Pairing
from bot.errors import Conflict, ConstraintViolation
from bot.storage.database import Database
from bot.storage.polls import BAD_OPTION, CLOSED, FULL, OK, SAME, UNKNOWN, PollRepository, VoteRequest

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
GUILD, OTHER_GUILD = 111, 222


@pytest.fixture
async def db(any_db):
    return any_db


async def add_stars(db: Database, guild_id: int, *names: str) -> list[int]:
    ids = []
    for name in names:
        ids.append(await db.execute_returning("INSERT INTO stars (guild_id, name, name_key) VALUES (?, ?, ?) RETURNING id",
                                    (guild_id, name, name.lower())))
    return ids


async def make_poll(repo: PollRepository, stars: list[int], *, options: int = 3, max_choices: int = 1,
                    guild_id: int = GUILD, hours: int = 1) -> int:
    pairs = [Pairing.of(stars[0], s) for s in stars[1 : options + 1]]
    return await repo.create_poll(guild_id, "Who?", 1, NOW, NOW + timedelta(hours=hours), max_choices, False, False,
                                  [(f"opt{i}", p) for i, p in enumerate(pairs)])


async def test_a_fan_proposes_a_pairing_once_in_either_order(db):
    repo = PollRepository(db)
    a, b, c = await add_stars(db, GUILD, "A", "B", "C")
    await repo.add_proposal(GUILD, Pairing.of(a, b), 10, "thriller", NOW)
    with pytest.raises(Conflict):
        await repo.add_proposal(GUILD, Pairing.of(b, a), 10, None, NOW)
    await repo.add_proposal(GUILD, Pairing.of(b, a), 11, None, NOW)
    await repo.add_proposal(GUILD, Pairing.of(a, c), 12, None, NOW + timedelta(seconds=1))
    counts = await repo.proposal_counts(GUILD)
    assert [(c.pairing, c.proposals) for c in counts] == [(Pairing.of(a, b), 2), (Pairing.of(a, c), 1)]
    assert await repo.proposal_counts(OTHER_GUILD) == []


async def test_the_database_refuses_a_pairing_stored_out_of_order(db):
    a, b = await add_stars(db, GUILD, "A", "B")
    with pytest.raises(ConstraintViolation):
        await db.execute("INSERT INTO collab_proposals (guild_id, star_low, star_high, proposer_id, created_at) "
                         "VALUES (?, ?, ?, 1, 'x')", (GUILD, b, a))


async def test_poll_round_trips_and_is_invisible_from_another_server(db):
    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C", "D")
    poll_id = await make_poll(repo, stars)
    poll = await repo.get(GUILD, poll_id)
    assert poll is not None and poll.closes_at == NOW + timedelta(hours=1) and poll.closed_at is None
    assert [o.label for o in poll.options] == ["opt0", "opt1", "opt2"]
    assert poll.options[1].pairing == Pairing.of(stars[0], stars[2])
    assert await repo.get(OTHER_GUILD, poll_id) is None
    out = await repo.apply_votes([VoteRequest(OTHER_GUILD, poll_id, 5, option=0)], NOW)
    assert out[0].status == UNKNOWN
    assert await repo.counts(poll_id) == {}


async def test_single_choice_votes_change_and_never_double_count(db):
    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C", "D")
    poll_id = await make_poll(repo, stars)
    outs = await repo.apply_votes([
        VoteRequest(GUILD, poll_id, 1, option=0),
        VoteRequest(GUILD, poll_id, 1, option=0),
        VoteRequest(GUILD, poll_id, 2, option=0),
        VoteRequest(GUILD, poll_id, 1, option=2),
        VoteRequest(GUILD, poll_id, 3, option=7),
        VoteRequest(GUILD, poll_id + 99, 3, option=0),
    ], NOW)
    assert [o.status for o in outs] == [OK, SAME, OK, OK, BAD_OPTION, UNKNOWN]
    assert await repo.counts(poll_id) == {0: 1, 2: 1}
    assert await repo.choices_of(poll_id, 1) == {2}
    assert await repo.voter_count(poll_id) == 2


async def test_multi_choice_toggles_up_to_the_limit_and_select_replaces(db):
    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C", "D")
    poll_id = await make_poll(repo, stars, max_choices=2)
    press = lambda o: VoteRequest(GUILD, poll_id, 1, option=o)  # noqa: E731
    outs = await repo.apply_votes([press(0), press(1), press(2), press(0)], NOW)
    assert [o.action for o in outs] == ["added", "added", "full", "removed"]
    assert await repo.choices_of(poll_id, 1) == {1}
    outs = await repo.apply_votes([VoteRequest(GUILD, poll_id, 1, choices=frozenset({0, 2})),
                                   VoteRequest(GUILD, poll_id, 1, choices=frozenset({0, 1, 2}))], NOW)
    assert [o.status for o in outs] == [OK, FULL]
    assert await repo.counts(poll_id) == {0: 1, 2: 1}


async def test_votes_after_closing_time_or_close_are_refused(db):
    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C")
    poll_id = await make_poll(repo, stars, options=2)
    late = await repo.apply_votes([VoteRequest(GUILD, poll_id, 1, option=0)], NOW + timedelta(hours=1))
    assert late[0].status == CLOSED
    assert await repo.close(poll_id, NOW, closed_by=9)
    closed = await repo.apply_votes([VoteRequest(GUILD, poll_id, 1, option=0)], NOW)
    assert closed[0].status == CLOSED
    assert await repo.counts(poll_id) == {}


async def test_200_concurrent_votes_are_counted_exactly(db):
    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C", "D", "E")
    poll_id = await make_poll(repo, stars, options=4)
    rng = random.Random(7)
    # 150 fans; 50 of them vote twice (a change), all at once, each in its own transaction.
    first = {fan: rng.randrange(4) for fan in range(150)}
    second = {fan: rng.randrange(4) for fan in range(50)}
    requests = [VoteRequest(GUILD, poll_id, fan, option=o) for fan, o in first.items()]
    results = await asyncio.gather(*(repo.apply_votes([r], NOW) for r in requests))
    assert all(r[0].status == OK for r in results)
    changes = [VoteRequest(GUILD, poll_id, fan, option=o) for fan, o in second.items()]
    await asyncio.gather(*(repo.apply_votes([r], NOW) for r in changes))
    final = {**first, **second}
    expected: dict[int, int] = {}
    for option in final.values():
        expected[option] = expected.get(option, 0) + 1
    assert await repo.counts(poll_id) == expected
    assert await db.fetchval("SELECT COUNT(*) FROM poll_votes WHERE poll_id = ?", (poll_id,)) == 150


async def test_200_concurrent_presses_of_the_same_button_count_once(db):
    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C")
    poll_id = await make_poll(repo, stars, options=2)
    results = await asyncio.gather(*(repo.apply_votes([VoteRequest(GUILD, poll_id, 42, option=1)], NOW)
                                     for _ in range(200)))
    assert sorted(r[0].status for r in results) == [OK] + [SAME] * 199
    assert await repo.counts(poll_id) == {1: 1}


async def test_close_happens_once_when_timer_and_command_race(db):
    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C")
    poll_id = await make_poll(repo, stars, options=2)
    wins = await asyncio.gather(*(repo.close(poll_id, NOW, closed_by=i) for i in range(20)))
    assert wins.count(True) == 1
    claims = await asyncio.gather(*(repo.claim_announcement(poll_id, NOW) for _ in range(5)))
    assert claims.count(True) == 1


async def test_due_lists_only_open_polls_past_their_time_across_servers(db):
    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C")
    other = await add_stars(db, OTHER_GUILD, "A", "B", "C")
    soon = await make_poll(repo, stars, options=2, hours=1)
    later = await make_poll(repo, stars, options=2, hours=5)
    theirs = await make_poll(repo, other, options=2, hours=1, guild_id=OTHER_GUILD)
    assert await repo.due(NOW) == []
    assert await repo.due(NOW + timedelta(hours=2)) == [(GUILD, soon), (OTHER_GUILD, theirs)]
    await repo.close(soon, NOW, None)
    assert await repo.due(NOW + timedelta(hours=6)) == [(OTHER_GUILD, theirs), (GUILD, later)]
    assert await repo.unannounced() == [(GUILD, soon)]


async def test_one_batch_larger_than_an_in_list_changes_and_adds_votes_exactly(db):
    from bot.storage.polls import IN_CHUNK

    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C", "D")
    poll_id = await make_poll(repo, stars, options=3)
    fans = IN_CHUNK + 700  # the voters' current choices need two IN (...) lists
    first = await repo.apply_votes([VoteRequest(GUILD, poll_id, fan, option=fan % 3) for fan in range(fans)], NOW)
    assert [o.status for o in first] == [OK] * fans
    # Everyone presses again in one batch: the first half another option (a change), the rest the same.
    again = [VoteRequest(GUILD, poll_id, fan, option=(fan + 1) % 3 if fan < fans // 2 else fan % 3)
             for fan in range(fans)]
    outcomes = await repo.apply_votes(again, NOW)
    assert [o.status for o in outcomes] == [OK] * (fans // 2) + [SAME] * (fans - fans // 2)
    expected = {}
    for request in again:
        expected[request.option] = expected.get(request.option, 0) + 1
    assert await repo.counts(poll_id) == expected
    assert await repo.voter_count(poll_id) == fans


async def test_in_one_batch_a_press_naming_another_servers_poll_changes_nothing_there(db):
    repo = PollRepository(db)
    ours = await make_poll(repo, await add_stars(db, GUILD, "A", "B", "C"), options=2)
    theirs = await make_poll(repo, await add_stars(db, OTHER_GUILD, "X", "Y", "Z"), options=2, guild_id=OTHER_GUILD)
    assert (await repo.apply_votes([VoteRequest(OTHER_GUILD, theirs, 5, option=1)], NOW))[0].status == OK
    outcomes = await repo.apply_votes([
        VoteRequest(GUILD, ours, 5, option=0),
        VoteRequest(GUILD, theirs, 5, option=1),  # their poll's id, pressed from our server: a toggle-off if honoured
        VoteRequest(GUILD, theirs, 6, option=0),
        VoteRequest(GUILD, ours, 6, option=1),
    ], NOW)
    assert [o.status for o in outcomes] == [OK, UNKNOWN, UNKNOWN, OK]
    assert await repo.counts(ours) == {0: 1, 1: 1}
    assert await repo.counts(theirs) == {1: 1} and await repo.choices_of(theirs, 5) == frozenset({1})


async def test_live_counts_and_fans_voted_come_from_one_snapshot_while_votes_land(db):
    # Each fan picks both options at once, so any one moment has exactly two votes per fan; read in
    # two statements, a vote committing between them showed a fan more (or fewer) than the bars.
    repo = PollRepository(db)
    stars = await add_stars(db, GUILD, "A", "B", "C")
    poll_id = await make_poll(repo, stars, options=2, max_choices=2)
    fans = 40
    reads: list[tuple[dict[int, int], int]] = []

    async def vote(fan: int) -> None:
        await repo.apply_votes([VoteRequest(GUILD, poll_id, fan, choices=frozenset({0, 1}))], NOW)

    async def read() -> None:
        while len(reads) < 2 * fans and (not reads or reads[-1][1] < fans):
            reads.append(await repo.counts_and_voters(poll_id))

    await asyncio.gather(read(), *(vote(fan) for fan in range(1, fans + 1)))
    inconsistent = [(counts, voters) for counts, voters in reads
                    if counts != ({0: voters, 1: voters} if voters else {})]
    assert inconsistent == []
    assert await repo.counts_and_voters(poll_id) == ({0: fans, 1: fans}, fans)
