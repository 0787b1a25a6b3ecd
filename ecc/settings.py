"""All settings in one place, read from ``ECC_*`` environment variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECC_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL/TimescaleDB URL. Unset: an embedded PostgreSQL in data_dir.",
    )
    data_dir: Path = Field(
        default=Path(".ecc"), description="Folder owned by ecc (embedded database, demo state)."
    )
    timezone: str = Field(
        default="Asia/Shanghai", description="Plant timezone: day buckets and the UI clock."
    )
    api_host: str = Field(default="127.0.0.1", description="Address `ecc serve` binds.")
    api_port: int = Field(default=8000, description="Port `ecc serve` binds.")
    dashboard_port: int = Field(default=8050, description="Port of the Dash UI.")
    pool_max_size: int = Field(default=8, description="Maximum connections in the pool.")
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024, description="Largest accepted request body (413 above)."
    )
    max_batch_readings: int = Field(
        default=200_000, description="Largest number of readings in one request (413 above)."
    )
    max_inflight_writes: int = Field(
        default=8, description="Concurrent ingest writes per API process before 503."
    )
    write_wait_s: float = Field(
        default=2.0, description="How long an ingest request waits for a write slot before 503."
    )
    future_tolerance_s: int = Field(
        default=300, description="Readings stamped further in the future are rejected."
    )
    rollup_worker: bool = Field(
        default=True, description="Run the rollup refresher in each API process (plain PG)."
    )
    log_level: str = Field(default="info", description="Log level of the services.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
