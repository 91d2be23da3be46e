"""Media rules: file types by magic bytes, tags, titles, links and search."""

from __future__ import annotations

import pytest

from bot.domain.media import (
    MediaItem,
    check_media_url,
    clean_title,
    item_matches,
    link_kind,
    parse_tags,
    sniff_file_type,
)
from bot.errors import BadLink, UserError


@pytest.mark.parametrize("head, mime", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    (b"GIF89a\x01\x00\x01\x00", "image/gif"),
    (b"GIF87a\x01\x00\x01\x00", "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video/mp4"),
    (b"\x00\x00\x00\x20ftypmp42\x00\x00\x00\x00", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm", "video/webm"),
])
def test_sniffing_recognises_the_allowed_types_by_their_bytes(head, mime):
    found = sniff_file_type(head)
    assert found is not None and found.mime == mime


@pytest.mark.parametrize("head", [
    b"<html><script>alert(1)</script>",  # a page named cat.png
    b"%PDF-1.7\n",
    b"MZ\x90\x00\x03\x00",  # a Windows program
    b"PK\x03\x04\x14\x00",  # a zip
    b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF but audio
    b"\x00\x00\x00\x18ftypheic\x00\x00",  # ftyp with a brand not on the list
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska",  # Matroska, not WebM
    b"<svg xmlns='http://www.w3.org/2000/svg'><script/>",  # SVG can carry script: refused
    b"",
    b"\xff\xd8",  # truncated JPEG marker
])
def test_sniffing_refuses_everything_else(head):
    assert sniff_file_type(head) is None


def test_tags_are_folded_deduplicated_and_hangul_is_kept():
    assert parse_tags("Cute, #BTS  behind the scenes, cute,,  비하인드") == ("cute", "bts behind the scenes", "비하인드")
    assert parse_tags(None) == () and parse_tags("  ") == ()


@pytest.mark.parametrize("raw", ["<@&123>", "a" * 31, ", ".join(f"t{i}" for i in range(11)), "[x](https://e.vil)"])
def test_bad_tags_are_refused(raw):
    with pytest.raises(UserError):
        parse_tags(raw)


def test_titles_lose_control_characters_and_have_a_length_limit():
    assert clean_title("  Hye-kyo \u202e\n smiles ") == "Hye-kyo smiles"
    with pytest.raises(UserError):
        clean_title(" \n ")
    with pytest.raises(UserError):
        clean_title("x" * 201)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "data:text/html,hi",
                                 "https://e.com/" + "a" * 2000, "ftp://e.com/x", "https://user:pw@e.com/"])
def test_only_plain_http_links_are_accepted(url):
    with pytest.raises(BadLink):
        check_media_url(url)


def test_the_duplicate_key_ignores_scheme_case_slashes_and_tracking():
    keys = {check_media_url(u)[1] for u in (
        "https://www.youtube.com/watch?v=abc",
        "HTTP://WWW.YOUTUBE.COM/watch/?v=abc&utm_source=x",
        "https://www.youtube.com:443/watch?fbclid=1&v=abc#t=3",
    )}
    assert len(keys) == 1
    assert check_media_url("https://e.com/A")[1] != check_media_url("https://e.com/a")[1]


@pytest.mark.parametrize("url, kind", [
    ("https://www.youtube.com/watch?v=x", "video"), ("https://youtu.be/x", "video"), ("https://vimeo.com/1", "video"),
    ("https://cdn.example.com/a/b.JPG", "image"), ("https://e.com/p.webp?w=1", "image"),
    ("https://e.com/clip.mp4", "video"), ("https://e.com/article", "link"), ("https://notyoutube.com/x", "link"),
])
def test_link_kind_decides_how_a_link_is_shown(url, kind):
    assert link_kind(url) == kind


def test_search_matches_every_word_in_title_tags_credit_or_her_names():
    item = MediaItem(1, 1, "Airport fashion 공항패션", "image", url="https://e.com/a.jpg", tags=("fashion", "bts"),
                     credit="Dispatch")
    names = ("Song Hye-kyo", "Hye-kyo", "송혜교")
    assert item_matches(item, "airport", names)
    assert item_matches(item, "공항", names)
    assert item_matches(item, "송혜교", names)
    assert item_matches(item, "songhyekyo airport", names)
    assert item_matches(item, "DISPATCH", names)
    assert not item_matches(item, "airport kitten", names)
    assert not item_matches(item, "   ", names)
    # NFD (decomposed jamo, as some keyboards send) finds the NFC title.
    import unicodedata
    assert item_matches(item, unicodedata.normalize("NFD", "공항"), names)
