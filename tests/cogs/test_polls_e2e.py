"""Dream-collab polls end to end: the real bot against the Discord double, fans pressing real buttons."""

from __future__ import annotations

import copy
import re
from collections import Counter
from datetime import timedelta

import pytest

from tests.discord_double import DoubleUsageError

STARS = ["Song Hye-kyo", "Han So-hee", "Kim Go-eun", "Jun Ji-hyun", "IU", "Suzy", "Kim Tae-ri"]


async def follow(server, names=STARS[:4]):
    for name in names:
        ix = await server.invoke(server.mod, "stars follow", name=name)
        assert not ix.ephemeral, ix.content


async def ready_bot(start_bot, server, **overrides):
    bot = await start_bot(**overrides)
    await server.configure(bot)
    bot.get_cog("PollsCog").live.interval = 0.05  # real Discord: seconds; here fast, same coalescing
    return bot


def poll_messages(server):
    return [m for m in server.messages("polls") if m["embeds"] and m["embeds"][0]["title"].startswith("Dream collab poll")]


def custom_ids(message):
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


def button_for(message, label_part):
    for row in message["components"]:
        for c in row["components"]:
            if label_part in c["label"]:
                return c["custom_id"]
    raise AssertionError(f"no button with {label_part!r} in {custom_ids(message)}")


def option_lines(message):
    """{option label: votes} as the poll message shows them."""
    field = next(f for f in message["embeds"][0]["fields"] if f["name"] == "Options")
    found = {}
    for label, votes in re.findall(r"\*\*\d+\.\*\* (.+)\n`[█░]+` (\d+) votes?", field["value"]):
        found[label.replace("\\", "")] = int(votes)
    return found


async def db_counts(bot, poll_id):
    rows = await bot.services.db.fetchall(
        "SELECT o.label, COUNT(v.voter_id) AS n FROM poll_options o LEFT JOIN poll_votes v "
        "ON v.poll_id = o.poll_id AND v.position = o.position WHERE o.poll_id = ? GROUP BY o.position", (poll_id,))
    return {r["label"]: r["n"] for r in rows}


def no_pings(double):
    """Every message the bot sent or edited carried allowed_mentions that ping nobody."""
    for req in double.requests:
        body = req.json if isinstance(req.json, dict) else {}
        if req.method in ("POST", "PATCH") and ("content" in body or "embeds" in body or "data" in body):
            payload = body.get("data", body) if "type" in body else body
            mentions = payload.get("allowed_mentions")
            if payload.get("content") or payload.get("embeds"):
                assert mentions is not None and not mentions.get("parse") and not mentions.get("roles") \
                    and not mentions.get("users"), (req.path, mentions)


async def test_proposals_poll_votes_restart_and_timed_close_while_down(start_bot, server, double, clock):
    bot = await ready_bot(start_bot, server)
    await follow(server)
    fans = [server.new_fan() for _ in range(40)]

    # Autocomplete offers followed stars.
    choices = await server.autocomplete(server.fan, "collab propose", "star_a", "han")
    assert [c["name"] for c in choices][0].startswith("Han So-hee")

    # Proposals: the same pairing in either order counts together.
    proposals = [(fans[0], "Song Hye-kyo", "Han So-hee"), (fans[1], "Han So-hee", "Song Hye-kyo"),
                 (fans[2], "song hye-kyo", "han so-hee"), (fans[0], "Song Hye-kyo", "Kim Go-eun"),
                 (fans[3], "Kim Go-eun", "Song Hye-kyo"), (fans[4], "Jun Ji-hyun", "Han So-hee"),
                 (fans[5], "Kim Go-eun", "Jun Ji-hyun")]
    for fan, a, b in proposals:
        ix = await server.invoke(fan, "collab propose", star_a=a, star_b=b, project="thriller drama")
        assert not ix.ephemeral and "Proposed" in ix.content, ix.content
    assert "3 fans have proposed" in ix.content or "1 fan has" in ix.content
    again = await server.invoke(fans[1], "collab propose", star_a="Song Hye-kyo", star_b="Han So-hee")
    assert again.ephemeral and "already proposed" in again.content
    herself = await server.invoke(fans[6], "collab propose", star_a="IU", star_b="IU")
    assert herself.ephemeral and "follow" in herself.content  # IU is not followed here
    herself = await server.invoke(fans[6], "collab propose", star_a="Han So-hee", star_b="han so-hee")
    assert herself.ephemeral and "herself" in herself.content
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM collab_proposals") == len(proposals)

    # A poll from the top 3 proposals, in the polls channel, with buttons and a relative closing time.
    ix = await server.invoke(server.mod, "poll create", question="Who should Hye-kyo film with next?",
                             from_top_proposals=3, duration="6h")
    assert ix.ephemeral and "Poll #" in ix.content
    [message] = poll_messages(server)
    embed = message["embeds"][0]
    assert "Who should Hye-kyo film with next?" in embed["description"]
    closes = int((clock.now() + timedelta(hours=6)).timestamp())
    assert any(f"<t:{closes}:R>" in f["value"] for f in embed["fields"])
    assert option_lines(message) == {"Song Hye-kyo × Han So-hee": 0, "Song Hye-kyo × Kim Go-eun": 0,
                                     "Han So-hee × Jun Ji-hyun": 0}
    poll_id = int(custom_ids(message)[0].split(":")[2])
    buttons = copy.deepcopy(message["components"])
    assert all(re.fullmatch(rf"fanbot:poll:{poll_id}:\d", c) for c in custom_ids(message))

    # 30 fans vote, 5 change their mind, 3 press the same button twice.
    labels = ["Hye-kyo × Han", "Hye-kyo × Kim", "Han So-hee × Jun"]
    votes = {}
    for i, fan in enumerate(fans[:30]):
        choice = labels[i % 3] if i < 24 else labels[0]
        reply = await server.click(fan, message, button_for(message, choice))
        assert reply.ephemeral and "is counted" in reply.content, reply.content
        votes[fan.id] = choice
    for fan in (fans[0], fans[1], fans[3], fans[4], fans[6]):
        reply = await server.click(fan, message, button_for(message, labels[2]))
        assert reply.ephemeral and "is counted" in reply.content
        votes[fan.id] = labels[2]
    for fan in (fans[5], fans[7], fans[8]):
        reply = await server.click(fan, message, button_for(message, votes[fan.id]))
        assert reply.ephemeral and "already voted" in reply.content
    expected = Counter(votes.values())
    full = {"Hye-kyo × Han": "Song Hye-kyo × Han So-hee", "Hye-kyo × Kim": "Song Hye-kyo × Kim Go-eun",
            "Han So-hee × Jun": "Han So-hee × Jun Ji-hyun"}
    want = {full[k]: v for k, v in expected.items()}
    assert await db_counts(bot, poll_id) == want
    # The live counts catch up (coalesced edits) and show what the database holds.
    await double.wait_for(lambda: option_lines(double.messages.by_id[message["id"]]) == want, timeout=5)

    # Restart mid-poll: the very same buttons still work.
    bot = await start_bot.restart(bot)
    bot.get_cog("PollsCog").live.interval = 0.05
    late = fans[30]
    reply = await server.click(late, message, button_for(message, labels[1]))
    assert reply.ephemeral and "is counted" in reply.content
    want["Song Hye-kyo × Kim Go-eun"] += 1
    assert await db_counts(bot, poll_id) == want
    await double.wait_for(lambda: option_lines(double.messages.by_id[message["id"]]) == want, timeout=5)

    # The bot is down when the poll's time comes; on the next start the scheduler closes it.
    await start_bot.stop(bot)
    clock.advance(timedelta(hours=7))
    bot = await start_bot()
    await bot.scheduler.run_once()
    results = await double.wait_for_message(server.channels["polls"].id,
                                            lambda m: m["embeds"] and m["embeds"][0]["title"].startswith("Results"))
    winner = max(want, key=want.get)
    text = "\n".join(f"{f['name']} {f['value']}" for f in results["embeds"][0]["fields"])
    assert f"Winner: {winner} ({want[winner]} votes" in text
    total = sum(want.values())
    assert f"{round(want[winner] * 100 / total)}%" in text
    closed_message = double.messages.by_id[message["id"]]
    assert closed_message["components"] == []
    assert any(f["name"] == "Closed" for f in closed_message["embeds"][0]["fields"])
    assert await bot.services.db.fetchval("SELECT closed_at IS NOT NULL FROM polls WHERE id = ?", (poll_id,)) == 1

    # Running the scheduler again posts nothing twice.
    await bot.scheduler.run_once(force=True)
    assert len([m for m in server.messages("polls") if m["embeds"][0]["title"].startswith("Results")]) == 1

    # A stale button on the closed poll (a client that has not refreshed) is refused politely.
    double.messages.edit(closed_message, {"components": buttons}, [])
    stale = await server.click(fans[35], closed_message, button_for(closed_message, labels[0]))
    assert stale.ephemeral and "closed" in stale.content
    assert await db_counts(bot, poll_id) == want

    # Results and leaderboard (everyone).
    res = await server.invoke(server.fan, "poll results", poll=str(poll_id))
    assert res.ephemeral and f"Winner: {winner}" in res.all_text
    board = await server.invoke(server.fan, "collab leaderboard")
    text = board.all_text
    first_line = text.split("\n")[1]
    assert winner in first_line and "1 win" in first_line
    assert f"{want['Song Hye-kyo × Han So-hee']} votes · 3 proposals" in text
    no_pings(double)


async def test_old_buttons_work_after_restart_for_select_menu_polls(start_bot, server, double):
    bot = await ready_bot(start_bot, server)
    await follow(server, STARS)
    pairs = "; ".join(f"Song Hye-kyo x {s}" for s in STARS[1:])
    ix = await server.invoke(server.mod, "poll create", question="Six ways", pairings=pairs, max_choices=2)
    assert ix.ephemeral, ix.content
    [message] = poll_messages(server)
    [select] = [c for row in message["components"] for c in row["components"]]
    assert select["type"] == 3 and select["max_values"] == 2 and len(select["options"]) == 6
    poll_id = int(select["custom_id"].split(":")[2])
    fan = server.new_fan()
    reply = await server.select(fan, message, select["custom_id"], ["0", "5"])
    assert "Your choices (2 of up to 2)" in reply.content and "Kim Tae-ri" in reply.content
    bot = await start_bot.restart(bot)
    reply = await server.select(fan, message, select["custom_id"], ["1"])
    assert reply.ephemeral and "Kim Go-eun" in reply.content
    counts = await db_counts(bot, poll_id)
    assert counts["Song Hye-kyo × Kim Go-eun"] == 1 and sum(counts.values()) == 1
