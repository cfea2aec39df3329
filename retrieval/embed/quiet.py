"""Quiet model loading, shared by the torch backend (``backends``) and the ONNX export
(``onnx``): its own module so that neither of those two imports the other for it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_model_loading() -> Iterator[None]:
    """Hide transformers' "Loading weights" progress bar while a model loads: it is noise in a
    CLI or a service log, where the caller reports its own progress."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
