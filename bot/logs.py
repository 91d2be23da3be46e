"""Logging set-up: one format, and a filter that blanks the bot token wherever it might appear."""

from __future__ import annotations

import logging


class RedactSecrets(logging.Filter):
    """A logging filter that replaces the token (and other secrets) wherever it appears."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "[redacted]")
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def configure(level: str, *secrets: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(*secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # discord.py's gateway chatter at INFO is useful; its HTTP debug lines are not.
    logging.getLogger("discord.http").setLevel(max(logging.INFO, root.level))
