"""Who is asking: the roster (``tokens.csv``: ``token,user,role``) and, on a JupyterHub,
the hub's word for a token the roster does not know.

A hub token is checked with ``GET {hub_api_url}/user`` carrying that token, the hub's
own "who am I": the hub, not the student's environment, says who the student is. Its
answers are kept for a minute so that a class submitting at once does not flood the hub.
Roles come from the roster only: a hub user is an instructor only if the roster says so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError

STUDENT, INSTRUCTOR = "student", "instructor"
ROLES = (STUDENT, INSTRUCTOR)
COLUMNS = ("token", "user", "role")
HUB_CACHE_SECONDS = 60.0
HUB_TIMEOUT_SECONDS = 10.0
CACHE_LIMIT = 10_000  # entries; the oldest go first beyond it


class HubUnavailable(Exception):
    """The hub could not be asked (down, slow, or an answer that is not a user)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def instructor(self) -> bool:
        return self.role == INSTRUCTOR


def _key(token: str) -> str:
    # tokens are kept hashed: a memory dump or a log of the dict shows none
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Roster:
    """The course's users by token, and the role of each user name."""

    def __init__(self, entries: list[tuple[str, str, str]]) -> None:
        self._by_token = {_key(token): User(user, role) for token, user, role in entries}
        self._roles: dict[str, str] = {}
        for _, user, role in entries:  # a user with several tokens: instructor wins
            if self._roles.get(user) != INSTRUCTOR:
                self._roles[user] = role

    @classmethod
    def read(cls, path: Path) -> Roster:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise UsageError(f"--tokens {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"--tokens {path}: not UTF-8 text") from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, where: str = "tokens.csv") -> Roster:
        """Checked line by line: a typo in a role or a token given twice is told at start."""
        rows = csv.reader(io.StringIO(text))
        header = [cell.strip().lower() for cell in next(rows, [])]
        if tuple(header) != COLUMNS:
            raise UsageError(f"{where}: the first line must be {','.join(COLUMNS)}")
        entries: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for number, row in enumerate(rows, 2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise UsageError(f"{where}:{number}: expected 3 columns, found {len(row)}")
            token, user, role = (cell.strip() for cell in row)
            if not token or not user:
                raise UsageError(f"{where}:{number}: empty token or user")
            if role not in ROLES:
                raise UsageError(f"{where}:{number}: role {role!r} is not student or instructor")
            if token in seen:
                raise UsageError(f"{where}:{number}: this token is given twice")
            seen.add(token)
            entries.append((token, user, role))
        if not entries:
            raise UsageError(f"{where}: no users")
        return cls(entries)

    def user(self, token: str) -> User | None:
        return self._by_token.get(_key(token))

    def role_of(self, name: str) -> str:
        return self._roles.get(name, STUDENT)

    def members(self) -> list[tuple[str, str]]:
        """``(user, role)`` for each user once: the store's roster."""
        return sorted(self._roles.items())


def token_of(header: str | None) -> str | None:
    """The token of ``Authorization: token <t>`` (or ``Bearer <t>``, as the hub takes)."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() not in ("token", "bearer") or not value:
        return None
    return value


async def tornado_fetch(url: str, token: str) -> tuple[int, bytes]:
    """``GET url`` with the token, by tornado's client (never blocks the event loop)."""
    from tornado.httpclient import AsyncHTTPClient, HTTPClientError

    try:
        response = await AsyncHTTPClient().fetch(
            url,
            headers={"Authorization": f"token {token}"},
            request_timeout=HUB_TIMEOUT_SECONDS,
            follow_redirects=False,
        )
    except HTTPClientError as exc:  # an answer with an error status
        return exc.code, b""
    except Exception as exc:  # refused, unreachable, timed out
        raise HubUnavailable(str(exc)) from None
    return response.code, response.body or b""


class Authenticator:
    """Roster first, then (with ``hub_api_url``) the hub, remembered ``cache_seconds``."""

    def __init__(
        self,
        roster: Roster,
        hub_api_url: str | None = None,
        *,
        fetch: Callable[[str, str], Awaitable[tuple[int, bytes]]] | None = None,
        cache_seconds: float = HUB_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.roster = roster
        self.hub_api_url = hub_api_url.rstrip("/") if hub_api_url else None
        self._fetch = fetch or tornado_fetch
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, User | None]] = {}

    async def identify(self, header: str | None) -> User | None:
        """The user of an ``Authorization`` header, or None (unknown or no token).

        Raises :class:`HubUnavailable` when only the hub could tell and it cannot."""
        token = token_of(header)
        if token is None:
            return None
        user = self.roster.user(token)
        if user is not None or self.hub_api_url is None:
            return user
        key, now = _key(token), self._clock()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        user = await self._ask_hub(token)
        if len(self._cache) >= CACHE_LIMIT:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            while len(self._cache) >= CACHE_LIMIT:
                self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (now + self._cache_seconds, user)
        return user

    async def _ask_hub(self, token: str) -> User | None:
        status, body = await self._fetch(f"{self.hub_api_url}/user", token)
        if status in (401, 403, 404):
            return None
        if status != 200:
            raise HubUnavailable(f"the hub answered {status}")
        try:
            model = json.loads(body)
        except ValueError:
            raise HubUnavailable("the hub's answer is not JSON") from None
        name = model.get("name") if isinstance(model, dict) else None
        if not isinstance(name, str) or not name:
            raise HubUnavailable("the hub's answer names no user")
        if model.get("kind", "user") != "user":  # a service's token is nobody's notebook
            return None
        return User(name, self.roster.role_of(name))
