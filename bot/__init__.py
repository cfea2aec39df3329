"""newsqa application edge: settings, the `newsqa` CLI and the Telegram bot."""
