"""A name server for the tests: fixed answers, for every name or per name, and a record of each question."""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver


class FakeDNS(AbstractResolver):
    """Answers every name with `addresses`, or, given `by_name`, each name with its own list (and an
    unknown name with nothing). Remembers each question as (host, port, family)."""

    def __init__(self, *addresses: str, by_name: dict[str, list[str]] | None = None) -> None:
        self.addresses = addresses
        self.by_name = by_name
        self.asked: list[tuple[str, int, int]] = []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.asked.append((host, port, family))
        answers = self.addresses if self.by_name is None else self.by_name.get(host, [])
        # As getaddrinfo does, each answer carries its own address's family.
        return [{"hostname": host, "host": a, "port": port, "family": socket.AF_INET6 if ":" in a else socket.AF_INET,
                 "proto": 0, "flags": 0} for a in answers]

    async def close(self):
        pass
