"""The `newsqa` command line (the console entry point is ``bot.cli:cli``): the click commands
(``commands``), their output (``format``), the console session and evaluation (``session``),
progress bars (``progress``), generated answers for ``ask`` (``generate``) and ``doctor``.

It may import the Telegram face (``bot.telegram``: ``newsqa bot`` starts it, ``doctor`` checks
its token); the Telegram face never imports this package.
"""

from bot.cli.commands import cli, main

__all__ = ["cli", "main"]
