"""Which instance of a service takes a proxied request: round-robin, a short rest for an
instance that cannot be connected to, and rendezvous hashing for a video room's calls."""

import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from services.common.rendezvous import owner

Urls = tuple[str, ...]


def instance_urls(urls: str | Sequence[str]) -> Urls:
    """One base URL or several, as configured, without trailing slashes."""
    listed = (urls,) if isinstance(urls, str) else tuple(urls)
    if not listed:
        raise ValueError("a service needs at least one instance URL")
    return tuple(url.rstrip("/") for url in listed)


class Instances(dict[str, Urls]):
    """Each published service's instance URLs; assigning one URL or a list works alike, so
    `upstreams.urls["files"] = url` swaps a service's instances (tests do)."""

    def __init__(self, services: Mapping[str, str | Sequence[str]]) -> None:
        super().__init__()
        for name, urls in services.items():
            self[name] = urls

    def __setitem__(self, name: str, urls: str | Sequence[str]) -> None:
        super().__setitem__(name, instance_urls(urls))


class Balancer:
    """Round-robin per service over the instances not resting; a keyed request (a room's)
    goes to the key's owner among them. State is per gateway process: replicas do not share
    rests, which only costs each of them one refused connection."""

    def __init__(self, rest_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rest_seconds = rest_seconds
        self._clock = clock
        self._turns: defaultdict[str, itertools.count[int]] = defaultdict(itertools.count)
        self._resting: dict[str, float] = {}  # instance URL -> monotonic time it may return

    def rest(self, url: str) -> None:
        """`url` refused a connection: skip it for a while."""
        self._resting[url] = self._clock() + self.rest_seconds

    def resting(self) -> set[str]:
        """The instances skipped now."""
        self._wake()
        return set(self._resting)

    def choose(self, service: str, urls: Urls, key: str | None = None) -> str:
        """The instance for a new request. When every instance rests, all are tried anyway:
        a rest is a guess, and a refused connection costs little."""
        if len(urls) == 1:
            return urls[0]
        if self._resting:
            self._wake()
            urls = tuple(url for url in urls if url not in self._resting) or urls
        return self._pick(service, urls, key)

    def fallback(self, service: str, urls: Urls, key: str | None, tried: Urls) -> str | None:
        """The next instance to try once those in `tried` could not be connected to (nothing
        of the request was sent), preferring ones not resting; None when all were tried."""
        untried = tuple(url for url in urls if url not in tried)
        if not untried:
            return None
        self._wake()
        awake = tuple(url for url in untried if url not in self._resting)
        return self._pick(service, awake or untried, key)

    def _pick(self, service: str, urls: Urls, key: str | None) -> str:
        if key is not None:
            return owner(urls, key)
        return urls[next(self._turns[service]) % len(urls)]

    def _wake(self) -> None:
        now = self._clock()
        for url in [url for url, until in self._resting.items() if until <= now]:
            del self._resting[url]
