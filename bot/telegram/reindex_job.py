"""/reindex in the background: rebuild in a worker thread, show progress by editing ONE message.

Questions keep being answered from the old index meanwhile (``NewsQA`` swaps the new one in
atomically when the build ends). Edits are throttled and identical texts are skipped.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

from telegram import Message
from telegram.error import BadRequest, TelegramError

from bot.build_report import summary_lines
from bot.telegram.render import esc
from retrieval.index.build import BuildReport
from retrieval.index.store import IndexBusyError, IndexStoreError
from retrieval.service import NewsQA

log = logging.getLogger(__name__)

def current_step(stage: str, done: int, total: int) -> str:
    """What the build is doing now, from the last progress report (which names a finished step)."""
    if stage == "chunk":
        return f"已切分 {total} 个段落，正在计算新段落的向量"
    if stage == "embed":
        return f"计算向量 {done}/{total}" if done < total else "计算句子向量"
    if stage == "sentences":
        return f"计算句子向量 {done}/{total}" if done < total else "建立关键词索引"
    if stage == "keywords":
        return f"建立关键词索引 {done}/{total}"
    if stage == "done":
        return "保存并载入新索引"
    return "检查并读取语料文件"


def progress_text(stage: str, done: int, total: int, elapsed: float) -> str:
    """The progress message: current step and elapsed seconds (so a long step still shows life)."""
    return f"⏳ 正在更新索引…（已用时 {int(elapsed)} 秒）\n当前步骤：{esc(current_step(stage, done, total))}"


def summary_text(report: BuildReport) -> str:
    """The final message of a reindex (Telegram HTML): what changed and how long it took."""
    lines = [esc(line) for line in summary_lines(report)]
    lines[0] = "✅ " + lines[0]
    return "\n".join(lines)


class _Progress:
    """Latest (stage, done, total) reported by the build thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = ("start", 0, 0)

    def __call__(self, stage: str, done: int, total: int) -> None:  # called from the worker thread
        with self._lock:
            self._state = (stage, done, total)

    def get(self) -> tuple[str, int, int]:
        with self._lock:
            return self._state


class _ThrottledEditor:
    """Edits one message: at most one edit per ``interval`` seconds, identical texts skipped."""

    def __init__(self, message: Message, interval: float) -> None:
        self.message, self.interval = message, interval
        self.shown = message.text_html if message.text else ""
        self._last = time.monotonic()

    async def edit(self, text: str, *, force: bool = False) -> None:
        if text == self.shown:
            return
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            if not force:
                return
            await asyncio.sleep(wait)
        self._last = time.monotonic()
        try:
            await self.message.edit_text(text)  # HTML: the application's Defaults
            self.shown = text
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                log.warning("could not edit the reindex status message: %s", exc)
        except TelegramError as exc:  # progress is best effort; the build goes on
            log.warning("could not edit the reindex status message: %s", exc)


class ReindexJob:
    """At most one background reindex per bot. ``try_begin`` claims it synchronously, so two
    /reindex commands handled concurrently cannot both start a build."""

    def __init__(self, service: NewsQA, corpus: Path, interval: float = 1.0, tick: float = 0.25) -> None:
        self.service, self.corpus = service, corpus
        self.interval, self.tick = interval, tick
        self._busy = False

    @property
    def running(self) -> bool:
        return self._busy

    def try_begin(self) -> bool:
        if self._busy:
            return False
        self._busy = True
        return True

    def release(self) -> None:
        self._busy = False

    async def run(self, status: Message, *, rebuild: bool = False, user_id: int | None = None) -> None:
        """Rebuild the index, editing ``status`` with progress and then the summary.
        Must follow a successful ``try_begin``; always releases the job."""
        try:
            editor = _ThrottledEditor(status, self.interval)
            progress = _Progress()
            started = time.monotonic()
            log.info("reindex started by user id %s (corpus %s, rebuild=%s)", user_id, self.corpus, rebuild)
            worker = asyncio.ensure_future(asyncio.to_thread(
                self.service.reindex, self.corpus, rebuild=rebuild, progress=progress))
            while not worker.done():
                await asyncio.wait({worker}, timeout=self.tick)
                if not worker.done():
                    await editor.edit(progress_text(*progress.get(), time.monotonic() - started))
            try:
                report = worker.result()
            except IndexBusyError:
                text = "⚠️ 另一个索引任务正在进行（可能来自命令行），请稍后再试。"
            except IndexStoreError as exc:
                log.warning("reindex failed: %s", exc)
                text = f"❌ 索引更新失败：{esc(str(exc))}\n旧索引仍在使用。"
            except Exception:
                log.exception("reindex failed")
                text = "❌ 索引更新失败，详情见日志。旧索引仍在使用。"
            else:
                log.info("reindex finished in %.1f s: +%d ~%d -%d files, %d → %d chunks, %d embedded",
                         report.seconds, len(report.added), len(report.changed), len(report.removed),
                         report.chunks_before, report.chunks, report.embedded)
                text = summary_text(report)
            await editor.edit(text, force=True)
        finally:
            self.release()
