"""Look-ups in glance (image properties) and keystone (project names).

Both are cached with a TTL: a boot storm asks about the same few images
thousands of times.  The cache only holds public facts (image properties,
project names), never IPA state or OTPs, so replicas stay stateless in the
sense of DESIGN §3.  A 404 from glance means "no properties" and is cached
like any answer; every other failure raises ``LookupUnavailable`` and is
not cached.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

from keystoneauth1 import exceptions as ksa_exceptions
from keystoneauth1.session import Session

from novajoin.join.errors import LookupUnavailable, ProjectNotFound

LOG = logging.getLogger("novajoin.join.lookups")

V = TypeVar("V")
_MAX_ID = 255


class ImageLookup(Protocol):
    def properties(self, image_id: str) -> Mapping[str, str]:
        """Glance image properties (os_distro, os_version, ipa_enroll, ...); {} if none."""
        ...


class ProjectLookup(Protocol):
    def name(self, project_id: str) -> str:
        """The project's name; ProjectNotFound if keystone does not know it."""
        ...


class TTLCache(Generic[V]):
    """A thread-safe, size-bounded (LRU) cache whose entries expire after ``ttl`` seconds.

    ``ttl <= 0`` disables caching.  Concurrent misses of one key may load it
    more than once; that is cheaper than holding a lock across HTTP calls.
    """

    def __init__(
        self, ttl: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: collections.OrderedDict[str, tuple[float, V]] = collections.OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: str) -> tuple[bool, V | None]:
        """(hit, value)."""
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return False, None
            expires, value = found
            if expires <= now:
                del self._entries[key]
                return False, None
            self._entries.move_to_end(key)
            return True, value

    def put(self, key: str, value: V) -> None:
        if self.ttl <= 0:
            return
        expires = self._clock() + self.ttl
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get_or_load(self, key: str, load: Callable[[], V]) -> V:
        hit, value = self.get(key)
        if hit:
            return value  # type: ignore[return-value]
        value = load()
        self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _endpoint_filter(
    service_type: str, interface: str | None, region_name: str | None, **extra: Any
) -> dict[str, Any]:
    found: dict[str, Any] = {"service_type": service_type, **extra}
    if interface:
        found["interface"] = interface
    if region_name:
        found["region_name"] = region_name
    return found


def _get(session: Session, what: str, url: str, endpoint_filter: dict[str, Any]) -> Any:
    """GET through keystoneauth; LookupUnavailable for anything but an answer."""
    try:
        return session.get(url, endpoint_filter=endpoint_filter, raise_exc=False,
                           headers={"Accept": "application/json"})
    except ksa_exceptions.ClientException as exc:
        # keystoneauth messages name URLs, never tokens.
        raise LookupUnavailable(f"{what}: {type(exc).__name__}: {exc}") from None


def _json_object(response: Any, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise LookupUnavailable(f"{what}: answer is not JSON") from None
    if not isinstance(body, dict):
        raise LookupUnavailable(f"{what}: answer is not a JSON object")
    return body


class GlanceImageLookup:
    """Image properties from glance v2 (``GET /v2/images/{id}``), cached."""

    def __init__(
        self,
        session: Session,
        *,
        ttl: float = 300.0,
        max_entries: int = 1024,
        interface: str | None = None,
        region_name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._filter = _endpoint_filter("image", interface, region_name)
        self.cache: TTLCache[Mapping[str, str]] = TTLCache(ttl, max_entries, clock)

    def properties(self, image_id: str) -> Mapping[str, str]:
        if not image_id or len(image_id) > _MAX_ID:
            return MappingProxyType({})
        return self.cache.get_or_load(image_id, lambda: self._fetch(image_id))

    def _fetch(self, image_id: str) -> Mapping[str, str]:
        what = f"glance image {image_id!r}"
        response = _get(self._session, what, f"/v2/images/{quote(image_id, safe='')}",
                        self._filter)
        if response.status_code == 404:
            LOG.info("%s not found (or not visible to novajoin): no properties", what)
            return MappingProxyType({})
        if response.status_code != 200:
            raise LookupUnavailable(f"{what}: HTTP {response.status_code}")
        body = _json_object(response, what)
        # glance v2 puts custom properties at the top level, as strings.
        return MappingProxyType({k: v for k, v in body.items() if isinstance(v, str)})


class KeystoneProjectLookup:
    """Project names from keystone v3 (``GET /v3/projects/{id}``), cached.

    The identity endpoint is found by version discovery (v3), so catalogs
    that list ``http://host/identity`` and ``http://host:5000/v3`` both work.
    """

    def __init__(
        self,
        session: Session,
        *,
        ttl: float = 300.0,
        max_entries: int = 1024,
        interface: str | None = None,
        region_name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._filter = _endpoint_filter("identity", interface, region_name, version=(3, 0))
        self.cache: TTLCache[str] = TTLCache(ttl, max_entries, clock)

    def name(self, project_id: str) -> str:
        if not project_id or len(project_id) > _MAX_ID:
            raise ProjectNotFound(project_id)
        return self.cache.get_or_load(project_id, lambda: self._fetch(project_id))

    def _fetch(self, project_id: str) -> str:
        what = f"keystone project {project_id!r}"
        response = _get(self._session, what, f"projects/{quote(project_id, safe='')}",
                        self._filter)
        if response.status_code == 404:
            raise ProjectNotFound(project_id)
        if response.status_code != 200:
            raise LookupUnavailable(f"{what}: HTTP {response.status_code}")
        project = _json_object(response, what).get("project")
        name = project.get("name") if isinstance(project, dict) else None
        if not isinstance(name, str):
            raise LookupUnavailable(f"{what}: answer has no project name")
        return name
