"""Optional API keys, and admin keys for `/admin/*`, checked before any route runs.

A pure-ASGI middleware rather than a route dependency, so unknown paths, the OpenAPI document and
routers mounted later are covered without each one opting in. Only the probes stay open, because
orchestrators call them without credentials. Keys arrive as `Authorization: Bearer <key>` or
`X-API-Key: <key>` and are compared as SHA-256 digests with `hmac.compare_digest`, against every
configured key, so the time taken says nothing about how close a guess was.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from service.middleware import send_json
from service.settings import Settings

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
ADMIN_PREFIX = "/admin"
REALM = 'Bearer realm="gan-sampling-service"'


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def presented_key(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The key a request carries: `Authorization: Bearer` if present, else `X-API-Key`."""
    fallback = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return token.strip()
        elif name == b"x-api-key" and value.strip():
            fallback = fallback or value.strip()
    return fallback


@dataclass(frozen=True)
class KeyRing:
    """Digests of the configured keys. Admin keys are valid wherever API keys are."""

    api: frozenset[bytes]
    admin: frozenset[bytes]
    api_required: bool  # False: no API keys configured, ordinary routes are open

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        api, admin = settings.keys("api"), settings.keys("admin")
        return cls(
            api=frozenset(_digest(k) for k in api | admin),
            admin=frozenset(_digest(k) for k in admin),
            api_required=bool(api),
        )

    def admits(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether a request may use the ordinary routes: always when no API key is configured, else with a
        valid key (the routes left open, such as /readyz, use it to decide what they show)."""
        if not self.api_required:
            return True
        key = presented_key(headers)
        return key is not None and self.matches(key, self.api)

    @staticmethod
    def matches(key: bytes, digests: frozenset[bytes]) -> bool:
        """Constant-time membership: every configured digest is compared, whatever matches."""
        probe = _digest(key)
        found = False
        for digest in digests:
            found |= hmac.compare_digest(probe, digest)
        return found


class AuthMiddleware:
    """401 (with `WWW-Authenticate`) without a valid key, 403 for a non-admin key on an admin route."""

    def __init__(self, app: ASGIApp, keys: KeyRing) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        admin = is_admin_path(path)
        if not admin and not self.keys.api_required:
            await self.app(scope, receive, send)
            return
        if admin and not self.keys.admin:
            await send_json(send, 403, "the admin API is disabled: set GAN_ADMIN_KEYS or GAN_ADMIN_KEYS_FILE")
            return
        key = presented_key(scope["headers"])
        if key is None:
            detail = "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
            await send_json(send, 401, detail, {"WWW-Authenticate": REALM})
            return
        if not self.keys.matches(key, self.keys.api):
            await send_json(send, 401, "invalid API key", {"WWW-Authenticate": REALM + ', error="invalid_token"'})
            return
        if admin and not self.keys.matches(key, self.keys.admin):
            await send_json(send, 403, "this route needs an admin key")
            return
        await self.app(scope, receive, send)
