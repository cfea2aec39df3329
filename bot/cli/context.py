"""What every `newsqa` subcommand shares: the settings and lazily created service, the error
type the user sees, and the check that an index exists."""

from __future__ import annotations

from typing import IO, Any

import click

from bot.settings import Settings
from retrieval.index.store import IndexStoreError


class Context:
    """Settings plus the lazily created service, shared by subcommands. ``overrides`` are the
    global options' settings, for a command that builds its own Settings (doctor)."""

    def __init__(self, settings: Settings | None, overrides: dict[str, object]) -> None:
        self._settings = settings
        self.overrides = overrides
        self._service = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:  # only doctor runs without them, and it builds its own
            raise RuntimeError("settings were not loaded for this command")
        return self._settings

    @property
    def service(self):
        if self._service is None:
            from bot.runtime import make_service

            self._service = make_service(self.settings)
        return self._service


class CliError(click.ClickException):
    """An error the user can act on: printed as "错误：…" on stderr, exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"错误：{self.format_message()}", file=file, err=file is None)


def ensure_index(obj: Context) -> None:
    try:
        obj.service.load()
    except IndexStoreError as exc:
        raise CliError(str(exc)) from None
