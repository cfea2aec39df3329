"""Follow an index published by another machine: a read-only replica (``INDEX_ROLE=follow``).

A builder publishes versions under a shared index root with ``store.commit_version``'s atomic
``current`` swap. A follower never builds; it polls the ``current`` symlink (one ``readlink``,
no file is opened) and, when it names a version the follower does not serve, loads that version
with full checksum verification in its own thread and swaps it into the running service. Questions
keep being answered from the old version meanwhile, and still are if the new one is refused.

A version that fails to load (damaged, partial, another model) is refused and logged once; the
follower keeps serving what it has and takes the next good version that appears. A load that fails
while ``current`` moved on is not held against either version: it is simply tried again (the
builder may have garbage-collected the version under the loader's feet).

Nothing here knows about Telegram or settings: ``load`` is any callable that loads the current
version and swaps it in (``NewsQA.refresh``), returning the folder it loaded.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.index.store import IndexStoreError

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 2.0


def published_version(root: Path) -> str | None:
    """The name of the version ``root/current`` points at (``v-…``), or None if there is none.
    Cheap enough to call every second: one ``readlink``, nothing is resolved or read."""
    try:
        return Path(os.readlink(root / "current")).name
    except OSError:  # missing, or not a symlink
        return None


@dataclass
class FollowEvent:
    """One thing the follower did: ``kind`` is "loaded" or "refused"; ``seconds`` is how long
    the load took; ``error`` the refusal's message."""

    kind: str
    version: str
    seconds: float
    at: float = field(default_factory=time.time)
    error: str = ""


class IndexFollower:
    """Poll ``root/current`` every ``poll_seconds`` and load new versions with ``load``.

    ``serving`` is the version in service (None until the first load). ``check()`` is one poll
    step, for tests and for callers with their own loop; ``start()`` runs it in a daemon thread
    until ``stop()``. ``on_event`` (if given) is called with every :class:`FollowEvent`, from the
    follower's thread."""

    def __init__(self, root: Path, load: Callable[[], Path | None], *, poll_seconds: float = DEFAULT_POLL_SECONDS,
                 serving: str | None = None, on_event: Callable[[FollowEvent], None] | None = None) -> None:
        self.root, self.poll_seconds = root, poll_seconds
        self._load, self._on_event = load, on_event
        self.serving = serving
        self.refused: dict[str, str] = {}  # version name → why it was refused
        self.events: list[FollowEvent] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one check at a time (thread and a manual check())

    def check(self) -> FollowEvent | None:
        """Look once; load and swap in a new version if there is one. Returns what happened
        (None if nothing changed, the version is already refused, or the result was ambiguous)."""
        with self._lock:
            target = published_version(self.root)
            if target is None or target == self.serving or target in self.refused:
                return None
            started = time.monotonic()
            try:
                folder = self._load()
            except Exception as exc:  # IndexStoreError above all; anything else is refused the same way
                if published_version(self.root) != target:  # moved on meanwhile: which one failed?
                    log.info("index version %s changed while loading; will look again", target)
                    return None
                event = FollowEvent("refused", target, time.monotonic() - started, error=str(exc))
                self.refused[target] = str(exc)
                if not isinstance(exc, IndexStoreError):
                    log.exception("unexpected error loading index version %s", target)
                log.error("refused index version %s, still serving %s: %s", target, self.serving or "nothing", exc)
            else:
                loaded = folder.name if folder is not None else target
                event = FollowEvent("loaded", loaded, time.monotonic() - started)
                log.info("now serving index version %s (was %s), loaded in %.2f s",
                         loaded, self.serving or "nothing", event.seconds)
                self.serving = loaded
            self.events.append(event)
        if self._on_event is not None:
            self._on_event(event)
        return event

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.check()
            except Exception:  # never let the follower die: it is the replica's only way to update
                log.exception("index follower: unexpected error (will try again)")

    def start(self) -> IndexFollower:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="index-follower", daemon=True)
            self._thread.start()
            log.info("following index %s (every %.1f s), serving %s", self.root, self.poll_seconds,
                     self.serving or "nothing yet")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
