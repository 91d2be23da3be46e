"""Keeping the catalogues current with Babel: extract the messages, update each .po, check and count them.

    python -m bot.i18n extract   # write locales/fanbot.pot from the code and the slash commands
    python -m bot.i18n update    # merge the template into every locales/<lang>/LC_MESSAGES/fanbot.po
    python -m bot.i18n check     # fail on untranslated messages or placeholders that differ
    python -m bot.i18n stats     # how many messages each language has translated
"""

from __future__ import annotations

import importlib
import re
import string
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from .catalogues import DOMAIN, LOCALES_DIR, SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bot", "cogs")
# lang._(msg), lang.n_(singular, plural, n), lang.p_(context, msg) and N_(msg) for messages defined ahead of use.
KEYWORDS = {"_": None, "N_": None, "Nn_": (1, 2), "n_": (1, 2), "p_": ((1, "c"), 2)}
TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
_FIELD = re.compile(r"\{([^{}:!]*)[^{}]*\}")


def po_path(code: str) -> Path:
    return LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def code_messages() -> Iterator[tuple[str | tuple[str, str], str | None, str]]:
    """(message, context, where) for every message marked in the code."""
    for folder in SOURCE_DIRS:
        for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS, strip_comment_tags=True
        ):
            yield message, context, f"{folder}/{filename}:{lineno}"


def command_messages() -> Iterator[tuple[str, str | None, str]]:
    """(message, context, where) for every name, description and choice of the slash commands in cogs/."""
    from discord import app_commands
    from discord.ext import commands

    from ..client import extension_names

    # Command names stay English in every language (SPEC §8: the canonical names); options and choices do not.
    def walk(item: app_commands.Command | app_commands.Group, where: str) -> Iterator[tuple[str, str | None, str]]:
        yield item.description, None, where
        if isinstance(item, app_commands.Group):
            for child in item.commands:
                yield from walk(child, f"{where} {child.name}")
            return
        for param in item.parameters:
            yield param.name, "option name", f"{where} {param.name}"
            if param.description and param.description != "…":
                yield param.description, None, f"{where} {param.name}"
            for choice in param.choices:
                yield choice.name, "choice name", f"{where} {param.name}"

    for name in extension_names():
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if not (isinstance(obj, type) and issubclass(obj, commands.Cog) and obj.__module__ == module.__name__):
                continue
            if issubclass(obj, commands.GroupCog):
                where = f"/{obj.__cog_group_name__}"
                yield obj.__cog_group_description__, None, where
                for command in obj.__cog_app_commands__:
                    yield from walk(command, f"{where} {command.name}")
            else:
                for command in obj.__cog_app_commands__:
                    yield from walk(command, f"/{command.name}")


def build_template() -> Catalog:
    template = Catalog(domain=DOMAIN, project="fanbot", msgid_bugs_address="", charset="utf-8")
    for message, context, where in [*code_messages(), *command_messages()]:
        path, _, line = where.partition(":")
        template.add(message, locations=[(path, int(line))] if line.isdigit() else [(where.replace(' ', '/'), None)], context=context)
    return template


def fields(text: str) -> set[str]:
    """The str.format fields of a message ({star}, {n}, ...)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def problems(code: str, template: Catalog | None = None) -> list[str]:
    """What is wrong with a language's catalogue: messages without a translation, fields that differ."""
    template = template or build_template()
    with po_path(code).open("rb") as handle:
        catalog = read_po(handle, locale=code)
    found = []
    for message in template:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        entry = catalog.get(ids[0], context=message.context)
        label = f"{message.context + ': ' if message.context else ''}{ids[0]!r}"
        if entry is None or entry.fuzzy or not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
            found.append(f"{code}: no translation for {label}")
            continue
        wanted = set().union(*(fields(i) for i in ids))
        for text in entry.string if isinstance(entry.string, tuple) else (entry.string,):
            # A Korean count has one form and may leave {n} to the sentence ("여러 개"), never add a field.
            have = fields(text)
            if have != wanted and not (len(ids) == 2 and have == wanted - {"n"}):
                found.append(f"{code}: {label} has fields {sorted(have)}, the English has {sorted(wanted)}")
    return found


def stats() -> dict[str, tuple[int, int]]:
    """{language: (translated, total)} over the messages in the code and the slash commands."""
    template = build_template()
    total = sum(1 for m in template if m.id)
    out = {}
    for code in SUPPORTED[1:]:
        missing = {p for p in problems(code, template) if "no translation" in p}
        out[code] = (total - len(missing), total)
    return out


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "stats"
    if command == "extract":
        with TEMPLATE.open("wb") as handle:
            write_po(handle, build_template(), omit_header=False, sort_output=True, width=110)
        print(f"wrote {TEMPLATE.relative_to(ROOT)}")
    elif command == "update":
        template = build_template()
        for code in SUPPORTED[1:]:
            path = po_path(code)
            if path.exists():
                with path.open("rb") as handle:
                    catalog = read_po(handle, locale=code)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                catalog = Catalog(locale=code, domain=DOMAIN, project="fanbot", charset="utf-8")
            catalog.update(template, update_header_comment=False)
            with path.open("wb") as handle:
                write_po(handle, catalog, sort_output=True, width=110, ignore_obsolete=True)
            print(f"updated {path.relative_to(ROOT)}")
    elif command == "check":
        found = [p for code in SUPPORTED[1:] for p in problems(code)]
        print("\n".join(found) or "every message is translated, with the same fields")
        return 1 if found else 0
    elif command == "stats":
        for code, (done, total) in stats().items():
            print(f"{code}: {done} of {total} messages translated")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
