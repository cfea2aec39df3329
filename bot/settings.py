"""All configuration in one pydantic-settings object, read once at the edge (CLI or bot start-up)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from retrieval.embed.default_model import DEFAULT_MODEL


class Settings(BaseSettings):
    """Settings from environment variables and ``.env``. Names match ``.env.example``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    corpus_dir: Path = Path("corpus")
    data_dir: Path = Path("data")
    index_dir: Path | None = None
    model_cache_dir: Path | None = None
    embedding_model: str = DEFAULT_MODEL
    embedding_backend: Literal["auto", "torch", "onnx", "onnx-int8"] = "auto"
    embedding_batch_size: int = Field(default=0, ge=0, le=1024)
    embedding_threads: int = Field(default=0, ge=0, le=256)
    # Where the model runs: auto = CUDA (torch) when torch sees a GPU, else today's CPU default
    # (int8 ONNX for the bundled model); cpu / cuda / mps force it (cuda fails clearly without one).
    embedding_device: Literal["auto", "cpu", "cuda", "mps"] = "auto"

    # Replicas (docs/scale-out.md): a builder builds and publishes index versions; a follower
    # never builds, it serves the version INDEX_DIR/current points at and loads each new one
    # (checksums verified) within INDEX_POLL_SECONDS, refusing damaged ones.
    index_role: Literal["build", "follow"] = "build"
    index_poll_seconds: float = Field(default=2.0, gt=0, le=3600)
    # Embed index builds on a Ray cluster (docs/scale-out.md, pip install -e ".[ray]"): "local"
    # starts Ray on this machine, host:port joins a running cluster; unset/empty = no Ray.
    ray_address: str | None = None

    # Store a vector per sentence with the index (answers re-rank without the model: ~5x faster
    # asks); false halves the build's embedding work for very large archives.
    sentence_vectors: bool = True
    search_top_k: int = Field(default=5, ge=1, le=50)
    max_question_chars: int = Field(default=500, ge=10, le=10_000)

    # Who decides answers (docs/reader.md): "model", the trained reader (a span that beats "no
    # answer" by READER_MARGIN logits); "rules", the hand-written rules (baseline); "hybrid", the
    # rules decide whether and which sentence, the reader picks the short answer (答：…) in it.
    answer_reader: Literal["model", "rules", "hybrid"] = "hybrid"
    reader_backend: Literal["onnx-int8", "onnx", "torch"] = "onnx-int8"
    reader_margin: float | None = None  # unset: the calibrated margin shipped with the weights
    reader_threads: int = Field(default=0, ge=0, le=256)

    telegram_bot_token: SecretStr | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    bot_api_base_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    rate_limit_per_minute: int = Field(default=20, ge=1)
    # Follow-up questions (retrieval/dialogue): a conversation is forgotten after this many seconds
    # without a message (0 = never); long lists in group threads and `newsqa chat` show this many
    # items at a time, "还有呢" shows the next ones (0 = all at once, as private chats always do).
    conversation_ttl: float = Field(default=600.0, ge=0)
    conversation_list_page: int = Field(default=5, ge=0, le=50)
    log_level: str = "INFO"
    feedback_enabled: bool = True
    feedback_db: Path | None = None
    feedback_salt: SecretStr | None = None

    # Optional generated answers (docs/generation.md): on only when LLM_BASE_URL and LLM_MODEL
    # are both set; any OpenAI-compatible endpoint. The key is never logged.
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout: float = Field(default=20.0, gt=0, le=600)

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_base_url.strip() and self.llm_model and self.llm_model.strip())

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        """Accept "1001,1002", "1001 1002" and the JSON list "[1001, 1002]" from the environment,
        as well as a list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("[") and text.endswith("]"):  # pydantic-settings' own list syntax
                text = text[1:-1]
            parts = [p.strip().strip("\"'") for p in text.replace(",", " ").split() if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError as exc:
                raise ValueError(f"ADMIN_IDS must be numeric Telegram user ids, got {value!r}") from exc
        return value

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir if self.index_dir is not None else self.data_dir / "index"

    @property
    def resolved_feedback_db(self) -> Path:
        return self.feedback_db if self.feedback_db is not None else self.data_dir / "feedback.sqlite3"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir if self.model_cache_dir is not None else self.data_dir / "models"
