"""Host validation and trusted-proxy headers: deciding who the client is and what it asked."""

from __future__ import annotations

import ipaddress
import itertools
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from oakling._types import Scope

__all__ = (
    "PROCESS_ID",
    "HostValidator",
    "ProxyResolver",
    "new_request_id",
    "request_counter",
    "split_host",
)


def split_host(host: str) -> str:
    """Return the host name of a ``Host`` header value, lower-cased, without port."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end > 0 else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostValidator:
    """Checks a Host header against ``allowed_hosts`` (``*``, ``.example.com``, exact names)."""

    def __init__(self, allowed: Iterable[str]) -> None:
        patterns = [a.strip().lower() for a in allowed if a.strip()]
        self.allow_all = "*" in patterns
        self.exact = frozenset(p for p in patterns if not p.startswith("."))
        self.suffixes = tuple(p for p in patterns if p.startswith("."))
        self._seen: dict[str, bool] = {}
        self._seen_raw: dict[bytes, bool] = {}

    def allows(self, host: str) -> bool:
        """Whether ``host`` (a Host header value, port allowed) is one of ours."""
        if self.allow_all:
            return True
        known = self._seen.get(host)
        if known is None:
            known = self._check(host)
            # NOTE: bounded, so a client sending random hosts cannot grow it without end.
            if len(self._seen) < 1024:
                self._seen[host] = known
        return known

    def allows_scope(self, scope: Scope) -> bool:
        """Whether the request's host (forwarded by a trusted proxy, or Host) is ours."""
        if self.allow_all:
            return True
        forwarded = scope.get("oakling.host")
        if forwarded is not None:
            return self.allows(str(forwarded))
        for key, value in scope["headers"]:
            if key == b"host" and value:
                known = self._seen_raw.get(value)
                if known is None:
                    known = self.allows(value.decode("latin-1"))
                    if len(self._seen_raw) < 1024:
                        self._seen_raw[value] = known
                return known
        server = scope.get("server")
        return self.allows(str(server[0]) if server else "")

    def _check(self, host: str) -> bool:
        name = split_host(host)
        if not name or any(c in name for c in "/\\@?#% "):
            return False
        if name in self.exact:
            return True
        return any(name.endswith(s) or name == s[1:] for s in self.suffixes)


class ProxyResolver:
    """Applies ``X-Forwarded-*`` headers when the direct peer is a trusted proxy."""

    def __init__(self, trusted: Iterable[str]) -> None:
        self.networks = [
            ipaddress.ip_network(t.strip(), strict=False) for t in trusted if t.strip()
        ]

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def apply(self, scope: Scope) -> None:
        """Rewrite ``scope``'s client, scheme and host from trusted forwarding headers."""
        client = scope.get("client")
        if not client or not self._trusted(client[0]):
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        forwarded_for = headers.get("x-forwarded-for")
        if forwarded_for:
            # NOTE: walk from the right, skipping our own proxies: the first untrusted
            # address is the client; anything left of it could be forged.
            hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
            client_ip = hops[0] if hops else client[0]
            for hop in reversed(hops):
                client_ip = hop
                if not self._trusted(hop):
                    break
            scope["client"] = (client_ip, 0)
        proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            websocket = scope["type"] == "websocket"
            scope["scheme"] = {"http": "ws", "https": "wss"}[proto] if websocket else proto
        host = headers.get("x-forwarded-host", "").split(",")[-1].strip()
        if host:
            scope["oakling.host"] = host


PROCESS_ID = os.urandom(5).hex().encode()
request_counter = itertools.count(1)


def new_request_id(sent: bytes | str | None) -> bytes:
    """Return ``sent`` when it is a sane request id, else a new unique one."""
    if sent is not None:
        value = sent.encode("latin-1") if isinstance(sent, str) else sent
        if (
            0 < len(value) <= 128
            and value.replace(b"-", b"").replace(b"_", b"").replace(b".", b"").isalnum()
        ):
            return bytes(value)
    return b"%s%06x" % (PROCESS_ID, next(request_counter))
