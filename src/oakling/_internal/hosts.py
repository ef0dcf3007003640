"""Host validation and trusted-proxy headers: deciding who the client is and what it asked."""

from __future__ import annotations

import ipaddress
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from oakling._types import Scope

__all__ = ("HostValidator", "ProxyResolver", "request_id_for", "split_host")


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

    def allows(self, host: str) -> bool:
        """Whether ``host`` (a Host header value, port allowed) is one of ours."""
        if self.allow_all:
            return True
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


def request_id_for(scope: dict[str, Any] | Any) -> str:
    """Return the client's ``X-Request-ID`` when sane, else a new random id."""
    for key, value in scope["headers"]:
        if key == b"x-request-id":
            if (
                0 < len(value) <= 128
                and value.replace(b"-", b"").replace(b"_", b"").replace(b".", b"").isalnum()
            ):
                return str(value.decode("ascii"))
            break
    return secrets.token_hex(8)
