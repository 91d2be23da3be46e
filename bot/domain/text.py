"""Text clean-up shared by the matcher and the catalogue: HTML to plain text, accent folding, name keys."""

from __future__ import annotations

import html
import re
import unicodedata

# Only real markup: a Latin tag name after "<". Korean titles in angle brackets ("<더 글로리>") stay.
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>", re.DOTALL)
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
# Hyphen look-alikes that feeds use inside names ("Song Hye&#8209;kyo"); mapped so they split words like "-".
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212\u00ad\ufe63\uff0d"})
_HANGUL_SYLLABLES = re.compile(r"[\uac00-\ud7a3]")


def plain_text(html_or_text: str) -> str:
    """Strip tags, decode entities (also double-encoded ones like '&amp;amp;'), collapse whitespace."""
    if not html_or_text:
        return ""
    text = html_or_text
    # Feeds often escape their HTML once more ("&lt;b&gt;Song&lt;/b&gt;"): decode until stable, stripping
    # tags after each round, so escaped markup is removed too. Three rounds cover every feed seen.
    for _ in range(3):
        stripped = _TAG.sub(" ", _SCRIPT.sub(" ", text)) if "<" in text else text
        decoded = html.unescape(stripped) if "&" in stripped else stripped
        if decoded == text:
            break
        text = decoded
    return _SPACE.sub(" ", text.translate(_DASHES)).strip()


def fold(text: str) -> str:
    """Fold accents and compatibility forms (full-width letters) but keep Hangul syllables whole.

    NFKD alone would split Hangul into jamo; recomposing with NFC after dropping the combining marks
    gives the syllables back while the Latin accents stay gone.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", kept)


def is_hangul(text: str) -> bool:
    return bool(text) and all("\uac00" <= ch <= "\ud7a3" for ch in text)


def has_hangul(text: str) -> bool:
    return bool(_HANGUL_SYLLABLES.search(text))


def name_key(name: str) -> str:
    """How two names compare: 'Song Hye-kyo' == 'song hye kyo' == 'SongHyeKyo' == '#songhyekyo'."""
    return "".join(ch for ch in fold(name).casefold() if ch.isalnum())
