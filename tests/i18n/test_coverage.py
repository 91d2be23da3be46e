"""Every message in the code and every slash-command string has Korean, with the English placeholders."""

from __future__ import annotations

from bot.i18n.tools import build_template, fields, main, problems


def test_every_message_has_korean_with_the_same_placeholders():
    found = problems("ko")
    assert not found, "\n".join(found)


def test_the_template_holds_the_code_and_the_commands():
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in build_template() if m.id}
    assert "Stop following a star" in ids  # a command description, from the tree
    assert "Something went wrong on fanbot's side; nothing was changed. Please try again later." in ids


def test_placeholders_are_read_like_str_format_does():
    assert fields("{n} votes for {star}") == {"n", "star"}
    assert fields("{pct:>3}% {{literal}}") == {"pct"}


def test_the_count_of_translated_messages_is_printed(capsys):
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    done, _, total = out.split(":")[1].split()[:3]
    assert out.startswith("ko: ") and int(done) == int(total) > 100
