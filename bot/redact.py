"""Keep the bot token (and webhook secret) out of every log record.

httpx logs each request URL at INFO, and Bot API URLs contain the token; PTB's InvalidToken
message quotes it too. :class:`SecretRedactingFilter` rewrites a record's message, arguments,
formatted exception and stack text. :func:`install_log_redaction` applies it to *every* record
at creation (via the log record factory), so it works whatever handlers are configured later —
a filter on a logger would miss records propagated from its children.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

REDACTED = "<redacted>"
_MIN_SECRET = 8  # shorter strings are not worth redacting on their own (and would mangle text)


class SecretRedactingFilter(logging.Filter):
    """Replaces known secrets in log records; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Redact ``secrets`` from now on. A bot token's secret half and its URL-encoded form
        are covered too."""
        variants = set(self._secrets)
        for secret in secrets:
            secret = (secret or "").strip()
            if not secret:
                continue
            variants.add(secret)
            if ":" in secret:
                variants.add(secret.replace(":", "%3A"))
                variants.add(secret.replace(":", "%3a"))
                tail = secret.split(":", 1)[1]
                if len(tail) >= _MIN_SECRET:
                    variants.add(tail)
        with self._lock:  # longest first, so a token is replaced whole before its tail
            self._secrets = tuple(sorted(variants, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            message = None
        if message is not None:
            redacted = self.redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_FILTER = SecretRedactingFilter()
_installed = False
_install_lock = threading.Lock()


def install_log_redaction(*secrets: str | None) -> SecretRedactingFilter:
    """Redact ``secrets`` from every log record created from now on (idempotent, additive)."""
    global _installed
    _FILTER.add(*(s for s in secrets if s))
    with _install_lock:
        if not _installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: object, **kwargs: object) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                _FILTER.filter(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed = True
    return _FILTER
