"""``python -m tests.fake_cli …``: the ``newsqa`` command line (``bot.cli``) in its own process,
with the hashing encoder (tests/fakes.py) in place of the embedding model.

For subprocess tests of the CLI's plumbing (stdin and argv decoding, exit codes, output):
everything is the real entry point except ``bot.runtime.make_service``, which the CLI imports
when it first needs the service. Run it with the repository on ``PYTHONPATH``; it reads and
writes indexes built with ``tests.fakes.FAKE_MODEL``.
"""

from __future__ import annotations

import bot.runtime
from bot.cli import main as cli_main
from tests.fakes import fake_make_service


def main() -> None:
    bot.runtime.make_service = fake_make_service
    cli_main()


if __name__ == "__main__":
    main()
