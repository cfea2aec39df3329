"""The Telegram bot: the application and its wiring (``app``), handlers, button callbacks,
inline mode, keyboards, HTML rendering, rate limits, follow-up conversations, generated
answers and the background reindex.

Modules here import python-telegram-bot as ``telegram`` with absolute imports, which always
resolve to the library, never to this package (``bot.telegram``).
"""
