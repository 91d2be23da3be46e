"""Dream-collab polls end to end: the real bot against the Discord double, fans pressing real buttons."""

from __future__ import annotations

import copy
import re
from collections import Counter
from datetime import timedelta

import pytest

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
    found = {}
    for label, votes in re.findall(r"\*\*\d+\.\*\* (.+)\n`[█░]+ +\d+%` (\d+) votes?", message["embeds"][0]["description"]):
        found[label.replace("\\", "")] = int(votes)
    return found


async def db_counts(bot, poll_id):
    rows = await bot.services.db.fetchall(
        "SELECT o.label, COUNT(v.voter_id) AS n FROM poll_options o LEFT JOIN poll_votes v "
        "ON v.poll_id = o.poll_id AND v.position = o.position WHERE o.poll_id = ? GROUP BY o.position, o.label", (poll_id,))
    return {r["label"]: r["n"] for r in rows}


def embed_length(embed):
    """The characters Discord counts against its 6,000 limit for one embed."""
    return (len(embed.get("title", "")) + len(embed.get("description", "")) + len(embed.get("footer", {}).get("text", ""))
            + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", [])))


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
    assert re.search(rf"{want['Song Hye-kyo × Han So-hee']} votes · +3 proposals` Song Hye-kyo × Han So-hee", text)
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
    assert select["placeholder"] == "Pick up to 2" and select["min_values"] == 1
    assert not bot.persistent_views  # the DynamicItem answers; no per-message view answers again
    poll_id = int(select["custom_id"].split(":")[2])
    fan = server.new_fan()
    reply = await server.select(fan, message, select["custom_id"], ["0", "5"])
    assert "Your choices (2 of up to 2)" in reply.content and "Kim Tae-ri" in reply.content
    bot = await start_bot.restart(bot)
    reply = await server.select(fan, message, select["custom_id"], ["1"])
    assert reply.ephemeral and "Kim Go-eun" in reply.content
    counts = await db_counts(bot, poll_id)
    assert counts["Song Hye-kyo × Kim Go-eun"] == 1 and sum(counts.values()) == 1


async def snapshot(bot):
    """Everything poll storage holds, to prove a refusal changed nothing."""
    rows = []
    for table in ("collab_proposals", "polls", "poll_options", "poll_votes"):
        rows.append([tuple(r) for r in await bot.services.db.fetchall(f"SELECT * FROM {table}")])
    return rows


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pairings": "Song Hye-kyo x Han So-hee"}, "at least 2"),
        ({"pairings": "; ".join(f"Song Hye-kyo x Star {i}" for i in range(26))}, "not follow"),
        ({"pairings": "Song Hye-kyo x Han So-hee; Han So-hee × Song Hye-kyo"}, "repeats"),
        ({"pairings": "Song Hye-kyo x Han So-hee; Song Hye-kyo x Nobody Known"}, "does not follow"),
        ({"pairings": "Song Hye-kyo x Han So-hee; Song Hye-kyo"}, "not two stars"),
        ({"pairings": "Song Hye-kyo x Han So-hee; Kim Go-eun x Kim Go-eun"}, "herself"),
        ({"pairings": "Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun", "duration": "0m"}, "1 minute"),
        ({"pairings": "Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun", "duration": "33d"}, "32 days"),
        ({"pairings": "Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun", "duration": "abc"}, "30m, 6h or 3d"),
        ({"pairings": "Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun", "max_choices": 3}, "max_choices"),
        ({"from_top_proposals": 5}, "proposed"),
        ({}, "pairings"),
    ],
)
async def test_bad_poll_input_gets_a_short_ephemeral_error_and_changes_nothing(start_bot, server, double, options,
                                                                               message):
    bot = await ready_bot(start_bot, server)
    await follow(server)
    before = await snapshot(bot)
    ix = await server.invoke(server.mod, "poll create", question="Who?", **options)
    assert ix.ephemeral and message in ix.content, ix.content
    assert len(ix.content) < 200
    assert await snapshot(bot) == before
    assert poll_messages(server) == []


async def test_too_many_options_and_long_question_are_refused(start_bot, server):
    bot = await ready_bot(start_bot, server)
    await follow(server, STARS)
    # 26 distinct pairings among 7 followed stars would need 8; 21 is the most 7 can make, so build 26 from
    # a bigger list of stars.
    more = ["Park Shin-hye", "Son Ye-jin", "Kim Ji-won", "Park Min-young", "Park Eun-bin"]
    await follow(server, more)
    names = STARS + more
    pairs = [f"{a} x {b}" for i, a in enumerate(names) for b in names[i + 1:]][:26]
    before = await snapshot(bot)
    ix = await server.invoke(server.mod, "poll create", question="Who?", pairings="; ".join(pairs))
    assert ix.ephemeral and "at most 25" in ix.content
    ix = await server.invoke(server.mod, "poll create", question="x" * 201, pairings="; ".join(pairs[:2]))
    assert ix.ephemeral and "200" in ix.content
    ix = await server.invoke(server.mod, "collab propose", star_a="IU", star_b="Suzy", project="y" * 81)
    assert ix.ephemeral and "80" in ix.content
    assert await snapshot(bot) == before
    ok = await server.invoke(server.mod, "poll create", question="Who?", pairings="; ".join(pairs[:25]))
    assert ok.ephemeral and "Poll #" in ok.content
    [message] = poll_messages(server)
    assert len(message["components"][0]["components"][0]["options"]) == 25


async def test_fans_cannot_create_or_close_polls(start_bot, server, double):
    bot = await ready_bot(start_bot, server)
    await follow(server)
    # /poll also has commands for everyone, so Discord shows the group to fans: the bot refuses at run time.
    before = await snapshot(bot)
    ix = await server.invoke(server.fan, "poll create", question="Mine?",
                             pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    assert ix.ephemeral and "Only moderators" in ix.content
    await server.invoke(server.mod, "poll create", question="Ours",
                        pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    before = await snapshot(bot)
    poll_id = before[1][0][0]
    ix = await server.invoke(server.fan, "poll close", poll=str(poll_id))
    assert ix.ephemeral and "Only moderators" in ix.content
    assert await snapshot(bot) == before


async def test_mentions_and_markdown_are_shown_literally_and_ping_nobody(start_bot, server, double):
    await ready_bot(start_bot, server)
    await follow(server)
    role = server.guild.add_role("stans")
    question = f"@everyone **vote** <@&{role.id}> <@{server.fan.id}> now"
    ix = await server.invoke(server.mod, "poll create", question=question,
                             pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    assert ix.ephemeral
    [message] = poll_messages(server)
    shown = message["embeds"][0]["description"]
    assert "@everyone" not in shown and f"<@&{role.id}>" not in shown and "**vote**" not in shown
    assert "vote" in shown
    prop = await server.invoke(server.fan, "collab propose", star_a="Song Hye-kyo", star_b="Han So-hee",
                               project="@here *drama*")
    assert "@here" not in prop.content and "*drama*" not in prop.content
    assert not message["mention_everyone"] and message["mention_roles"] == []
    no_pings(double)


async def test_anonymous_polls_never_show_voters_and_hidden_results_wait_for_close(start_bot, server, double):
    await ready_bot(start_bot, server)
    await follow(server)
    pairs = "Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun; Han So-hee x Kim Go-eun"
    await server.invoke(server.mod, "poll create", question="Secret?", pairings=pairs, anonymous=True,
                        hide_results=True, duration="30m")
    await server.invoke(server.mod, "poll create", question="Open?", pairings=pairs, duration="30m")
    secret, public = poll_messages(server)
    secret_id = int(custom_ids(secret)[0].split(":")[2])
    public_id = int(custom_ids(public)[0].split(":")[2])
    assert option_lines(secret) == {}  # no counts while hidden
    fans = [server.new_fan() for _ in range(4)]
    for i, fan in enumerate(fans):
        await server.click(fan, secret, custom_ids(secret)[i % 2])
        await server.click(fan, public, custom_ids(public)[i % 2])
    early = await server.invoke(fans[0], "poll results", poll=str(secret_id))
    assert early.ephemeral and "hides its results" in early.content
    shown = await server.invoke(fans[0], "poll results", poll=str(public_id))
    assert all(f"<@{f.id}>" in shown.all_text for f in fans)  # not anonymous: voters listed (never pinged)

    await server.invoke(server.mod, "poll close", poll=str(secret_id))
    after = await server.invoke(fans[0], "poll results", poll=str(secret_id))
    assert "Tie between" in after.all_text and "2 votes each" in after.all_text
    board = await server.invoke(fans[1], "collab leaderboard")
    # Nothing the bot ever sent names a voter of the anonymous poll (all its voters also voted in the
    # open poll, so check the texts that concern the secret poll).
    secret_texts = [after.all_text, str(double.messages.by_id[secret["id"]])]
    secret_texts += [str(m) for m in server.messages("polls") if "Secret?" in str(m)]
    for text in secret_texts:
        assert not any(f.id in text for f in fans), text
    assert "1 win" in board.all_text
    no_pings(double)


async def test_a_burst_of_votes_edits_the_poll_message_a_few_times_with_the_final_counts(start_bot, server, double):
    bot = await ready_bot(start_bot, server)
    bot.get_cog("PollsCog").live.interval = 0.3
    await follow(server)
    await server.invoke(server.mod, "poll create", question="Burst?",
                        pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    [message] = poll_messages(server)
    ids = custom_ids(message)
    assert not bot.persistent_views  # each click is answered by the DynamicItem alone
    assert all(c["style"] == 1 for row in message["components"] for c in row["components"])
    fans = [server.new_fan() for _ in range(60)]
    handles = [await double.click(message, ids[i % 2], fan) for i, fan in enumerate(fans)]
    for handle in handles:
        await handle.wait_response()
    assert all("is counted" in h.content for h in handles)
    await double.wait_for(lambda: option_lines(double.messages.by_id[message["id"]]) ==
                          {"Song Hye-kyo × Han So-hee": 30, "Song Hye-kyo × Kim Go-eun": 30}, timeout=5)
    edits = double.find_requests("PATCH", rf"/channels/\d+/messages/{message['id']}")
    assert 1 <= len(edits) <= 4, len(edits)
    gaps = [b.time - a.time for a, b in zip(edits, edits[1:], strict=False)]
    assert all(g >= 0.25 for g in gaps), gaps


async def test_close_command_and_timer_close_once_and_votes_after_are_refused(start_bot, server, double, clock):
    bot = await ready_bot(start_bot, server)
    await follow(server)
    await server.invoke(server.mod, "poll create", question="Race?", duration="1h",
                        pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    [message] = poll_messages(server)
    buttons = copy.deepcopy(message["components"])
    poll_id = int(custom_ids(message)[0].split(":")[2])
    await server.click(server.fan, message, custom_ids(message)[0])
    clock.advance(timedelta(hours=1))
    # Time is up but the timer has not run yet: votes are already refused.
    late = await server.click(server.new_fan(), message, custom_ids(message)[1])
    assert late.ephemeral and "closed" in late.content
    # The moderator's /poll close and the timer race; exactly one closes and posts.
    command = await double.invoke(server.guild, server.mod, server.general, "poll close", poll=str(poll_id))
    await bot.scheduler.run_once()
    await command.wait_done()
    await bot.scheduler.run_once(force=True)
    results = [m for m in server.messages("polls") if m["embeds"][0]["title"].startswith("Results")]
    assert len(results) == 1
    assert "Winner: Song Hye-kyo × Han So-hee (1 vote, 100%)" in str(results[0])
    assert command.ephemeral and ("is closed" in command.all_text or "already closed" in command.all_text)
    again = await server.invoke(server.mod, "poll close", poll=str(poll_id))
    assert again.ephemeral and "already closed" in again.content
    double.messages.edit(double.messages.by_id[message["id"]], {"components": buttons}, [])
    stale = await server.click(server.new_fan(), message, custom_ids(double.messages.by_id[message["id"]])[1])
    assert stale.ephemeral and "closed" in stale.content
    assert await db_counts(bot, poll_id) == {"Song Hye-kyo × Han So-hee": 1, "Song Hye-kyo × Kim Go-eun": 0}


async def test_polls_of_one_server_are_unknown_in_another_and_stale_buttons_are_refused(start_bot, server, double):
    from tests.conftest import FanServer

    bot = await ready_bot(start_bot, server)
    other = FanServer(double, "Other fans")
    await other.configure(bot)
    await follow(server)
    await server.invoke(server.mod, "poll create", question="Ours?",
                        pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    [message] = poll_messages(server)
    poll_id = int(custom_ids(message)[0].split(":")[2])
    ix = await other.invoke(other.fan, "poll results", poll=str(poll_id))
    assert ix.ephemeral and "Unknown poll" in ix.content
    assert await other.autocomplete(other.mod, "poll close", "poll", "") == []
    mine = await server.autocomplete(server.mod, "poll close", "poll", "")
    assert [c["value"] for c in mine] == [str(poll_id)]
    # A copy of our buttons in the other server (or a stale message of a deleted poll) counts nothing.
    copy_there, _ = double.messages.create(other.general.id, other.guild.id,
                                           {"content": "", "components": message["components"]}, [])
    stale = await other.click(other.fan, copy_there, custom_ids(message)[0])
    assert stale.ephemeral and "no longer exists" in stale.content
    ghost, _ = double.messages.create(
        server.channels["polls"].id, server.guild.id,
        {"content": "", "components": [{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "1. gone", "custom_id": "fanbot:poll:987654:0"}]}]}, [])
    stale = await server.click(server.fan, ghost, "fanbot:poll:987654:0")
    assert stale.ephemeral and "no longer exists" in stale.content
    assert await bot.services.db.fetchval("SELECT COUNT(*) FROM poll_votes") == 0


async def test_without_a_polls_channel_the_poll_is_posted_where_the_command_ran(start_bot, server, double):
    bot = await start_bot()
    await follow(server)
    ix = await server.invoke(server.mod, "poll create", question="Here?",
                             pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    assert not ix.ephemeral and ix.embeds[0]["title"].startswith("Dream collab poll")
    reply = await server.click(server.fan, ix.original, custom_ids(ix.original)[1])
    assert "is counted" in reply.content
    poll = await bot.services.polls.resolve(int(server.guild.id), ix.embeds[0]["title"].split("#")[1])
    assert poll.message_id == int(ix.original["id"])


async def test_a_25_option_poll_with_long_names_shows_every_option_on_the_poll_and_in_the_results(
        start_bot, server, double):
    await ready_bot(start_bot, server)
    names = [f"Starlet {word} of the Rather Long Stage Name Drama Club" for word in
             ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel")]
    await follow(server, names)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]][:25]
    ix = await server.invoke(server.mod, "poll create", question="Which of these 25?",
                             pairings="; ".join(f"{a} x {b}" for a, b in pairs))
    assert ix.ephemeral and "Poll #" in ix.content, ix.content
    [message] = poll_messages(server)
    labels = [f"{a} × {b}" for a, b in pairs]
    assert option_lines(message) == {label: 0 for label in labels}
    assert embed_length(message["embeds"][0]) <= 6000
    # One vote for the last option: sorted by votes, the zero-vote options come last and must still show.
    [select] = [c for row in message["components"] for c in row["components"]]
    await server.select(server.fan, message, select["custom_id"], ["24"])
    poll_id = int(select["custom_id"].split(":")[2])
    await server.invoke(server.mod, "poll close", poll=str(poll_id))
    results = await double.wait_for_message(server.channels["polls"].id,
                                            lambda m: m["embeds"] and m["embeds"][0]["title"].startswith("Results"))
    shown = results["embeds"][0]["description"].replace("\\", "")
    assert all(f"**{label}**" in shown for label in labels), shown
    assert shown.index(labels[24]) < shown.index(labels[0])
    assert embed_length(results["embeds"][0]) <= 6000
    closed = double.messages.by_id[message["id"]]
    assert len(option_lines(closed)) == 25 and embed_length(closed["embeds"][0]) <= 6000



def results_posts(server_):
    return [m for m in server_.messages("polls") if m["embeds"] and m["embeds"][0]["title"].startswith("Results")]


async def test_one_failing_close_does_not_stop_the_others_and_the_retry_also_edits_the_poll(
        start_bot, server, double, clock):
    from tests.conftest import FanServer

    bot = await ready_bot(start_bot, server)
    other = FanServer(double, "Other fans")
    await other.configure(bot)
    await follow(server)
    await follow(other, STARS[:3])
    pairs = "Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun"
    await server.invoke(server.mod, "poll create", question="Fails first?", pairings=pairs, duration="30m")
    await other.invoke(other.mod, "poll create", question="Still closes?", pairings=pairs, duration="1h")
    [failing], [fine] = poll_messages(server), poll_messages(other)
    # Discord refuses both the edit of the first poll and its results post (a 400 is not retried by
    # discord.py, so the failure is immediate; a 5xx would only be slower).
    double.fail_channel(server.channels["polls"], 400, methods=("POST", "PATCH"))
    clock.advance(timedelta(hours=2))
    await bot.scheduler.run_once()
    # The other server's poll, due later, was still closed, edited and announced.
    assert double.messages.by_id[fine["id"]]["components"] == []
    assert len(results_posts(other)) == 1
    assert double.messages.by_id[failing["id"]]["components"] != [] and results_posts(server) == []

    double.clear_channel_failure(server.channels["polls"])
    await bot.scheduler.run_once(force=True)
    # The retry posts the results and also marks the poll message closed (buttons gone).
    assert len(results_posts(server)) == 1
    closed = double.messages.by_id[failing["id"]]
    assert closed["components"] == [] and any(f["name"] == "Closed" for f in closed["embeds"][0]["fields"])
    await bot.scheduler.run_once(force=True)
    assert len(results_posts(server)) == 1 and len(results_posts(other)) == 1


async def test_poll_create_answers_discord_before_posting_and_errors_stay_private(start_bot, server, double):
    await ready_bot(start_bot, server)
    await follow(server)
    pairs = "Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun"
    ix = await server.invoke(server.mod, "poll create", question="Fast?", pairings=pairs)
    assert ix.deferred and ix.ephemeral and "Poll #" in ix.content
    callback = double.find_requests("POST", rf"/interactions/{ix.id}/.+/callback")
    post = double.find_requests("POST", rf"/channels/{server.channels['polls'].id}/messages")
    assert callback and post and callback[0].time <= post[0].time

    # Discord refuses the polls channel at the last moment: the mod is told privately, the poll is posted here.
    double.fail_channel(server.channels["polls"], 403)
    ix = await server.invoke(server.mod, "poll create", question="Here then?", pairings=pairs)
    await ix.wait_followups(2)
    assert ix.ephemeral and "cannot be used" in ix.content
    [public] = [m for m in ix.followups if m["embeds"]]
    assert not public["flags"] & 64 and public["embeds"][0]["title"].startswith("Dream collab poll")
    reply = await server.click(server.fan, public, custom_ids(public)[0])
    assert "is counted" in reply.content


async def test_without_a_polls_channel_bad_input_is_refused_privately(start_bot, server, double):
    bot = await start_bot()
    await follow(server)
    before = await snapshot(bot)
    public_before = [m["id"] for m in double.channel_messages(server.general.id) if not m["flags"] & 64]
    ix = await server.invoke(server.mod, "poll create", question="Here?", pairings="Song Hye-kyo x Han So-hee")
    await ix.wait_followups(1)
    [error] = ix.followups
    assert error["flags"] & 64 and "at least 2" in error["content"]
    assert ix.original is None  # the public "thinking" reply is gone
    assert [m["id"] for m in double.channel_messages(server.general.id) if not m["flags"] & 64] == public_before
    assert await snapshot(bot) == before


async def test_a_results_post_retried_after_it_reached_discord_is_not_posted_twice(start_bot, server, double, clock):
    bot = await ready_bot(start_bot, server)
    await follow(server)
    await server.invoke(server.mod, "poll create", question="Once?", duration="1h",
                        pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    [message] = poll_messages(server)
    poll_id = int(custom_ids(message)[0].split(":")[2])
    clock.advance(timedelta(hours=2))
    await bot.scheduler.run_once()
    [posted] = results_posts(server)
    # As if the send had raised after Discord stored the message: the claim is released, the next tick resends.
    await bot.services.polls.release_announcement(await bot.services.polls.get(int(server.guild.id), poll_id))
    await bot.scheduler.run_once(force=True)
    assert [m["id"] for m in results_posts(server)] == [posted["id"]]
    assert double.nonce_hits == 1


async def test_a_vote_whose_reply_fails_still_shows_in_the_live_counts(start_bot, server, double):
    await ready_bot(start_bot, server)
    await follow(server)
    await server.invoke(server.mod, "poll create", question="Late?",
                        pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    [message] = poll_messages(server)
    double.interaction_deadline = 0  # every answer now arrives "too late": Discord refuses it (10062)
    handle = await double.click(message, custom_ids(message)[0], server.fan)
    want = {"Song Hye-kyo × Han So-hee": 1, "Song Hye-kyo × Kim Go-eun": 0}
    await double.wait_for(lambda: option_lines(double.messages.by_id[message["id"]]) == want, timeout=5)
    assert handle.response is None  # the confirmation never reached the fan, yet the vote shows


async def test_poll_close_tells_the_mod_what_happened_to_the_results(start_bot, server, double):
    bot = await ready_bot(start_bot, server)
    await follow(server)
    pairs = "Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun"
    for question in ("Fails?", "Raced?", "Nowhere?"):
        await server.invoke(server.mod, "poll create", question=question, pairings=pairs)
    failing, raced, nowhere = [int(custom_ids(m)[0].split(":")[2]) for m in poll_messages(server)]

    # The close commits, then Discord refuses the results post: the mod hears it is closed and will be retried.
    double.fail_channel(server.channels["polls"], 400)
    ix = await server.invoke(server.mod, "poll close", poll=str(failing))
    assert ix.ephemeral and f"Poll #{failing} is closed" in ix.content and "retry" in ix.content
    assert "nothing was changed" not in ix.content
    double.clear_channel_failure(server.channels["polls"])
    await bot.scheduler.run_once()
    assert len(results_posts(server)) == 1

    # The timer claims the announcement between the command's close and its post.
    service = bot.services.polls
    real_close = service.close

    async def close_then_timer_claims(*args, **kwargs):
        poll = await real_close(*args, **kwargs)
        assert await service.claim_announcement(poll)
        return poll

    service.close = close_then_timer_claims
    ix = await server.invoke(server.mod, "poll close", poll=str(raced))
    service.close = real_close
    assert ix.ephemeral and "already being posted" in ix.content and "no polls channel" not in ix.content

    # No usable polls channel: closed, counts on the poll, and the mod is told why no results were posted.
    await bot.services.guilds.block_channel(int(server.guild.id), int(server.channels["polls"].id), "test")
    ix = await server.invoke(server.mod, "poll close", poll=str(nowhere))
    assert ix.ephemeral and "no results were posted" in ix.content


@pytest.mark.parametrize("polls_channel", [True, False])
async def test_a_poll_that_fails_after_its_message_was_sent_leaves_no_live_buttons(start_bot, server, double,
                                                                                    polls_channel):
    bot = await (ready_bot(start_bot, server) if polls_channel else start_bot())
    await follow(server)
    before = await snapshot(bot)

    async def broken_attach(*args, **kwargs):
        raise RuntimeError("database went away")  # the step after the post fails

    bot.services.polls.attach_message = broken_attach
    ix = await server.invoke(server.mod, "poll create", question="Dead?",
                             pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    if not polls_channel:  # the poll itself (deleted), then the error
        await double.wait_for(lambda: len(ix.followup_ids) == 2 and ix.followups, timeout=5)
    assert "went wrong" in ix.followups[-1]["content"] and ix.followups[-1]["flags"] & 64
    channel = server.channels["polls"] if polls_channel else server.general
    sent = double.find_requests("POST", rf"/channels/{channel.id}/messages|/webhooks/.+")
    assert sent, "the poll message was posted before the failure"
    assert not [m for m in double.channel_messages(channel.id) if m["components"]]
    assert await snapshot(bot) == before
