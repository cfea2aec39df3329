"""``python -m bot.cli …``: the same as the ``newsqa`` command."""

from bot.cli.commands import main

if __name__ == "__main__":
    main()
