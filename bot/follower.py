"""Read-only replicas in the bot (``INDEX_ROLE=follow``, docs/scale-out.md).

A follower serves the index version a builder published under the shared ``INDEX_DIR`` and
picks up each new one by itself: :class:`retrieval.index.follow.IndexFollower` polls
``INDEX_DIR/current`` every ``INDEX_POLL_SECONDS`` in its own thread (never on the event loop),
loads the new version with full checksum verification and swaps it in with
``NewsQA.refresh`` while questions keep being answered. It never builds: ``/reindex`` and
``newsqa index`` refuse with :data:`READ_ONLY`.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from bot.settings import Settings
from retrieval.index.follow import FollowEvent, IndexFollower
from retrieval.service import NewsQA

log = logging.getLogger(__name__)

READ_ONLY = ("本实例只读：索引由构建节点更新（在构建节点上运行 newsqa index 或发送 /reindex），"
             "新版本发布后本实例会在几秒内自动载入。")
READ_ONLY_CLI = ("本实例只读（INDEX_ROLE=follow）：索引由构建节点更新，请在构建节点上运行 newsqa index；"
                 "本实例会自动载入构建节点发布的新版本。")
WEBHOOK_SECRET_NEEDED = ("INDEX_ROLE=follow 且使用 webhook 时必须设置 WEBHOOK_SECRET，并且所有副本使用同一个值："
                         "否则每个副本都会用自己的随机密钥调用 setWebhook，只有最后一个能收到更新。")

_FOLLOWERS: weakref.WeakKeyDictionary[Any, IndexFollower] = weakref.WeakKeyDictionary()


def is_follower(settings: Settings) -> bool:
    return settings.index_role == "follow"


def make_follower(settings: Settings, service: NewsQA) -> IndexFollower:
    """An (unstarted) follower of ``settings``' index root that swaps versions into ``service``;
    it starts out serving whatever ``service`` has loaded."""
    loaded = service.index.path
    return IndexFollower(settings.resolved_index_dir, service.refresh, poll_seconds=settings.index_poll_seconds,
                         serving=loaded.name if loaded is not None else None, on_event=_log_event)


def _log_event(event: FollowEvent) -> None:
    # Refusals are logged (once per version, at ERROR) by the follower itself; the CLI keeps
    # retrieval's INFO lines quiet, so the bot reports each version it takes.
    if event.kind == "loaded":
        log.info("following the published index: now serving %s (loaded and verified in %.2f s)",
                 event.version, event.seconds)


def start_follower(app: Any, settings: Settings, service: NewsQA) -> IndexFollower | None:
    """Start following for ``app`` if this instance is a follower (once); None for a builder."""
    if not is_follower(settings):
        return None
    if (follower := _FOLLOWERS.get(app)) is None:
        follower = _FOLLOWERS[app] = make_follower(settings, service)
    return follower.start()


def follower_of(app: Any) -> IndexFollower | None:
    return _FOLLOWERS.get(app)


def stop_follower(app: Any) -> None:
    if (follower := _FOLLOWERS.pop(app, None)) is not None:
        follower.stop()
