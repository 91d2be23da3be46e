"""What a poll's counts mean, end to end: "N fans voted" counts fans, the bars count votes."""

from __future__ import annotations

import re

from tests.cogs.test_polls_e2e import button_for, follow, option_lines, poll_messages, ready_bot


async def test_fans_voted_counts_fans_not_votes_in_a_pick_two_poll(start_bot, server, double):
    await ready_bot(start_bot, server)
    await follow(server)
    ix = await server.invoke(server.mod, "poll create", question="Pick two", max_choices=2,
                             pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun; Han So-hee x Jun Ji-hyun")
    assert ix.ephemeral, ix.content
    [message] = poll_messages(server)
    both, one = server.new_fan(), server.new_fan()
    for fan, picks in ((both, ("Hye-kyo × Han", "Hye-kyo × Kim")), (one, ("Hye-kyo × Han",))):
        for pick in picks:
            reply = await server.click(fan, message, button_for(message, pick))
            assert reply.ephemeral and "Your choices" in reply.content, reply.content

    poll_id = message["components"][0]["components"][0]["custom_id"].split(":")[2]
    res = await server.invoke(server.fan, "poll results", poll=poll_id)
    [embed] = res.embeds
    assert embed["footer"]["text"] == "2 fans voted · poll open"  # three votes, two fans
    assert re.findall(r"\*\*(.+?)\*\*\n`[█░]+ +(\d+)%` (\d+) votes?", embed["description"]) == [
        ("Song Hye-kyo × Han So-hee", "67", "2"), ("Song Hye-kyo × Kim Go-eun", "33", "1"),
        ("Han So-hee × Jun Ji-hyun", "0", "0")]
    assert "Winner: Song Hye-kyo × Han So-hee (2 votes, 67%)" in res.all_text

    # The live poll message says the same once its coalesced edits have landed; an earlier edit may
    # show a moment between two votes (seen under load: the new voter counted, her vote not yet).
    def settled(m):
        footer = m["embeds"][0].get("footer", {}).get("text", "")
        return m["id"] == message["id"] and "2 fans voted" in footer and option_lines(m) == {
            "Song Hye-kyo × Han So-hee": 2, "Song Hye-kyo × Kim Go-eun": 1, "Han So-hee × Jun Ji-hyun": 0}

    await double.wait_for_message(server.channels["polls"], settled)
    # Every edit on the way showed one moment: its fans and its bars read together, never a fan
    # counted before her vote.
    moments = {1: [{"Song Hye-kyo × Han So-hee": 1, "Song Hye-kyo × Kim Go-eun": 0, "Han So-hee × Jun Ji-hyun": 0},
                   {"Song Hye-kyo × Han So-hee": 1, "Song Hye-kyo × Kim Go-eun": 1, "Han So-hee × Jun Ji-hyun": 0}],
               2: [{"Song Hye-kyo × Han So-hee": 2, "Song Hye-kyo × Kim Go-eun": 1, "Han So-hee × Jun Ji-hyun": 0}]}
    edits = [r.json for r in double.find_requests("PATCH", rf"/channels/\d+/messages/{message['id']}")]
    shown = [(int(re.search(r"(\d+) fans? voted", e["embeds"][0]["footer"]["text"])[1]), option_lines(e))
             for e in edits]
    assert shown and all(lines in moments[fans] for fans, lines in shown), shown


async def test_a_single_fan_is_one_fan_voted(start_bot, server, double):
    await ready_bot(start_bot, server)
    await follow(server)
    ix = await server.invoke(server.mod, "poll create", question="Pick two", max_choices=2,
                             pairings="Song Hye-kyo x Han So-hee; Song Hye-kyo x Kim Go-eun")
    assert ix.ephemeral, ix.content
    [message] = poll_messages(server)
    fan = server.new_fan()
    for pick in ("Hye-kyo × Han", "Hye-kyo × Kim"):
        reply = await server.click(fan, message, button_for(message, pick))
        assert "Your choices" in reply.content, reply.content
    poll_id = message["components"][0]["components"][0]["custom_id"].split(":")[2]
    res = await server.invoke(server.fan, "poll results", poll=poll_id)
    assert res.embeds[0]["footer"]["text"] == "1 fan voted · poll open"
    assert "Tie between Song Hye-kyo × Han So-hee and Song Hye-kyo × Kim Go-eun (1 vote each)" in res.all_text
