"""A tqdm progress display for index builds, shown only on a terminal."""

from __future__ import annotations

from types import TracebackType

from tqdm import tqdm

_STAGES = {"embed": "向量化", "sentences": "句向量", "keywords": "分词", "chunk": "切分", "done": "完成"}


class TerminalProgress:
    """Callable ``(stage, done, total)`` that drives one tqdm bar per stage."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: tqdm | None = None
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or stage in ("chunk", "done"):
            return
        if stage != self._stage:
            self._close()
            self._stage = stage
            self._bar = tqdm(total=total, desc=_STAGES.get(stage, stage), unit="段", leave=False)
        assert self._bar is not None
        self._bar.update(done - self._bar.n)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._close()
