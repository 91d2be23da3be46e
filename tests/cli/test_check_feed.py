"""`fanbot check-feed` against a local feed server: matches, JSON lines, refusals.

One test runs it as a real `python -m bot` subprocess; the others call what that process runs, the
command line's own parser and `check_feed`, in the test's process: a subprocess costs half a second of
start-up, most of it importing aiohttp, and these tests are about what the check prints."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.cli import build_parser, check_feed
from bot.settings import Settings
from tests.feedserver import FeedServer, Item

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def feeds():
    server = await FeedServer().start()
    server.feed(
        "k.xml",
        Item("Han Sohee spotted in Paris", "http://press.example/1", "1",
             published=datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)),
        Item("송혜교·한소희 화보 공개", "/relative/2", "2"),
        Item("Song Joong-ki new film; Acme Corp results", None, "3"),
    )
    server.feed("page", body=b"<!doctype html><html><body>news</body></html>", content_type="text/html")
    yield server
    await server.stop()


async def run(*args: str, cwd: Path, **env: str) -> tuple[int, str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_", "FEED_", "DEV_"))}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check-feed", *args, cwd=cwd, env=clean,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
def check(bot_catalogue, bot_i18n):
    """`fanbot check-feed ARGS` with `env` as its whole environment, in this process."""

    async def check_(*args: str, **env: str) -> tuple[int, str, str]:
        parsed = build_parser().parse_args(["check-feed", *args])
        settings = Settings.from_env(env, dotenv_path=None)
        out, err = io.StringIO(), io.StringIO()
        code = await check_feed(settings, parsed, out=out, err=err, catalogue=bot_catalogue, i18n=bot_i18n)
        return code, out.getvalue(), err.getvalue()

    return check_


async def test_json_lines_with_the_whole_catalogue(feeds, tmp_path):
    code, out, err = await run(feeds.url("k.xml"), "--json", cwd=tmp_path, FEED_ALLOW_PRIVATE_NETWORKS="true")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows == [
        {"title": "Han Sohee spotted in Paris", "link": "http://press.example/1",
         "published": "2026-11-28T09:30:00+00:00", "stars": ["Han So-hee"]},
        {"title": "송혜교·한소희 화보 공개", "link": feeds.url("relative/2"), "published": None,
         "stars": ["Song Hye-kyo", "Han So-hee"]},
        {"title": "Song Joong-ki new film; Acme Corp results", "link": None, "published": None, "stars": []},
    ]
    assert not (tmp_path / "data").exists()  # no database, no token needed


async def test_star_filter_brings_catalogue_names_and_matches_unknown_names_as_given(feeds, check):
    code, out, err = await check(
        feeds.url("k.xml"), "--star", "한소희", "--star", "Acme Corp", "--json",
        FEED_ALLOW_PRIVATE_NETWORKS="true",
    )
    assert code == 0, err
    assert [json.loads(line)["stars"] for line in out.splitlines()] == [["Han So-hee"], ["Han So-hee"], ["Acme Corp"]]

    code, out, err = await check(feeds.url("k.xml"), "--star", "Song Hye-kyo", FEED_ALLOW_PRIVATE_NETWORKS="1")
    assert code == 0, err
    assert "stars: Song Hye-kyo" in out and "3 items, 1 naming a star" in out


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://127.0.0.1:{port}/k.xml", "127.0.0.1 is a loopback address"),
        ("http://2130706433:{port}/k.xml", "127.0.0.1 is a loopback address"),
        ("file:///etc/passwd", "Only http and https links are accepted"),
    ],
)
async def test_refused_addresses_exit_non_zero_with_one_line(feeds, check, target, reason):
    code, out, err = await check(target.format(port=feeds.port))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0 and out == ""
    assert len(lines) == 1 and reason in lines[0]
    assert feeds.requests == []


async def test_a_web_page_is_not_a_feed(feeds, check):
    code, out, err = await check(feeds.url("page"), FEED_ALLOW_PRIVATE_NETWORKS="true")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and out == "" and len(lines) == 1
    assert "web page, not an RSS or Atom feed" in lines[0]


async def test_explain_shows_per_item_and_star_the_name_found_and_what_decided(check):
    server = await FeedServer().start()
    try:
        server.feed(
            "e.xml",
            Item("IU tops the list again", "http://press.example/a", "a",
                 summary="Her new album stayed first on the chart for a third week."),
            Item("IU tops the list again", "http://press.example/b", "b",
                 summary="The Hoosiers beat Purdue and climbed to No. 3."),
            Item("Song Hey-kyo returns", "http://press.example/c", "c"),
            Item("용인 수지 2지구 아파트 분양", "http://press.example/d", "d"),
        )
        code, out, err = await check(server.url("e.xml"), "--explain", FEED_ALLOW_PRIVATE_NETWORKS="true")
        assert code == 0, err
        blocks = out.split("http://press.example/")[1:]
        assert "stars: IU" in blocks[0] and "IU: matched: 'IU', confirmed by album, chart" in blocks[0]
        assert "stars: -" in blocks[1] and "IU: not announced: 'IU', refuted by hoosiers, purdue" in blocks[1]
        assert "Song Hye-kyo: matched: 'Song Hey kyo' for 'Song Hye-kyo', one letter off her name" in blocks[2]
        assert "Suzy: not announced: '수지', refuted by 분양, 아파트, 용인, 지구" in blocks[3]

        code, out, err = await check(server.url("e.xml"), "--explain", "--json", FEED_ALLOW_PRIVATE_NETWORKS="1")
        assert code == 0, err
        rows = [json.loads(line) for line in out.splitlines()]
        assert [r["stars"] for r in rows] == [["IU"], [], ["Song Hye-kyo"], []]
        assert rows[1]["explain"] == [{"star": "IU", "matched": False, "name": "IU", "written": "IU", "how": "context",
                                       "decided_by": ["hoosiers", "purdue"], "reason": "refuted"}]
        assert rows[2]["explain"][0]["how"] == "typo"

        code, out, err = await check(server.url("e.xml"), "--json", FEED_ALLOW_PRIVATE_NETWORKS="1")
        assert code == 0 and all("explain" not in json.loads(line) for line in out.splitlines())
    finally:
        await server.stop()


async def test_include_and_exclude_show_what_a_feeds_filter_would_do(check):
    server = await FeedServer().start()
    try:
        server.feed(
            "f.xml",
            Item("Han So-hee confirms a new drama", "http://press.example/1", "1"),
            Item("한소희 열애설에 소속사 입장", "http://press.example/2", "2"),
            Item("Han So-hee at a fashion week", "http://press.example/3", "3"),
        )
        code, out, err = await check(server.url("f.xml"), "--star", "Han So-hee", "--include", "drama, 열애설",
                                     "--exclude", "열애설", FEED_ALLOW_PRIVATE_NETWORKS="true")
        assert code == 0, err
        blocks = out.split("http://press.example/")[1:]
        assert "filter: announced (has 'drama')" in blocks[0]
        assert "filter: kept out by '열애설'" in blocks[1]
        assert "filter: kept out: none of the words to include" in blocks[2]
        assert "3 items, 3 naming a star, 1 passing the filter" in out

        code, out, err = await check(server.url("f.xml"), "--star", "Han So-hee", "--exclude", "fashion", "--json",
                                     FEED_ALLOW_PRIVATE_NETWORKS="true")
        assert code == 0, err
        verdicts = [json.loads(line)["filter"] for line in out.splitlines()]
        assert [v["announced"] for v in verdicts] == [True, True, False]
        assert verdicts[2]["excluded_by"] == "fashion"

        code, out, err = await check(server.url("f.xml"), "--include", ", ".join(f"w{i}" for i in range(100)),
                                     FEED_ALLOW_PRIVATE_NETWORKS="true")
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and out == "" and len(lines) == 1 and "at most 25 words or phrases to include" in lines[0]
    finally:
        await server.stop()
