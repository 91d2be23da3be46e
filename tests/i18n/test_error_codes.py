"""Every error the code raises and every mod-log notice it sends has its sentence; none is a sentence itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.error_text import ERROR_TEXT, error_text
from bot.errors import UserError
from bot.notice_text import NOTICES

ROOT = Path(__file__).resolve().parents[2]
ERRORS = {"UserError", "NotFound", "Conflict", "NotAllowed", "BadLink"}
CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$|^[a-z_]+$")


def _raised_codes() -> list[tuple[str, str]]:
    """(where, code pattern) for every UserError-like construction in bot/ and cogs/."""
    found = []
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "cogs").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS):
                continue
            if not node.args:
                continue
            first, where = node.args[0], f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((where, re.escape(first.value)))
            elif isinstance(first, ast.JoinedStr):  # f"{what}.empty": any filled-in word
                parts = [re.escape(v.value) if isinstance(v, ast.Constant) else r"[a-z_]+" for v in first.values]
                found.append((where, "".join(parts)))
            elif isinstance(first, ast.Name):
                found.append((where, None))  # a module constant such as UNKNOWN_POLL: checked by value below
    return found


def test_every_raised_error_is_a_code_with_a_sentence():
    raised = _raised_codes()
    assert len(raised) > 60
    missing = [(where, pattern) for where, pattern in raised
               if pattern is not None and not any(re.fullmatch(pattern, code) for code in ERROR_TEXT)]
    assert not missing, missing


def test_codes_are_codes_not_sentences():
    assert all(CODE.match(code) for code in ERROR_TEXT), [c for c in ERROR_TEXT if not CODE.match(c)]
    from bot.services.polls import UNKNOWN_POLL

    assert UNKNOWN_POLL in ERROR_TEXT


def test_every_notice_code_has_a_sentence():
    sent = set()
    for path in (ROOT / "bot").rglob("*.py"):
        sent |= set(re.findall(r'Notice\("([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert sent and sent <= set(NOTICES), sent - set(NOTICES)


@pytest.mark.parametrize("code", sorted(ERROR_TEXT))
def test_each_sentence_renders_in_both_languages_with_its_data(code, bot_i18n):
    template = ERROR_TEXT[code]
    english = template[0] if isinstance(template, tuple) else template
    fields = {name: 2 for name in re.findall(r"\{(\w+)\}", english)}
    for lang in (bot_i18n.english, bot_i18n.get("ko")):
        text = error_text(lang, code, fields)
        assert text and "{" not in text


def test_data_from_fans_stays_inert_in_an_error(bot_i18n):
    lang = bot_i18n.get("ko")
    error = UserError("star.not_followed", name="@everyone <@&123> **x**")
    text = error_text(lang, error.code, error.data)
    assert "@everyone" not in text and "<@&123>" not in text and "**x**" not in text
