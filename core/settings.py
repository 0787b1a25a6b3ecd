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
    api_url: str | None = Field(
        default=None,
        description="API base URL the dashboard reads. Unset: http://api_host:api_port.",
    )
    dashboard_key: str | None = Field(
        default=None,
        description="API key of the dashboard (viewer or engineer). Unset: `ecc dashboard` "
        "creates a viewer key in data_dir.",
    )
    contracted_demand_kw: float | None = Field(
        default=None, description="Contracted maximum demand shown on the wall screen, kW."
    )
    wall_tiles: str = Field(
        default=(
            "load_now,energy_today,cost_today,budget_month,co2_today,carbon_intensity,"
            "renewable_share,green_share"
        ),
        description="KPI tiles of the wall screen, in order (comma-separated keys).",
    )
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
    # alarms (alarms/config.py reads these)
    alarm_engine: bool = Field(
        default=True, description="Evaluate alarm rules on the ingest stream in each API process."
    )
    alarm_inline: bool = Field(
        default=True,
        description="Evaluate stream rules inside the ingest transaction (alarm "
        "visible with the reading's 2xx); false: in a thread after the commit.",
    )
    mqtt_host: str = Field(default="127.0.0.1", description="MQTT broker for alarm messages.")
    mqtt_port: int = Field(default=1883, description="MQTT broker port.")
    alarm_mqtt_topic: str = Field(default="ecc/alarms", description="Alarm topic prefix.")
    alarm_webhook_urls: str = Field(
        default="", description="Comma-separated webhooks that receive every annunciation."
    )
    alarm_rule_burst: int = Field(
        default=6, description="Flood protection: notifications per rule per window."
    )
    alarm_rule_window_s: float = Field(default=600.0, description="Per-rule flood window.")
    alarm_global_per_min: int = Field(
        default=120, description="Flood protection: notifications per minute in total."
    )
    alarm_summary_interval_s: float = Field(
        default=60.0, description="How often a flood summary reports held-back notifications."
    )
    alarm_webhook_timeout_s: float = Field(default=5.0, description="Webhook request timeout.")
    alarm_retry_base_s: float = Field(
        default=1.0, description="First retry delay of a failed delivery (doubles each time)."
    )
    alarm_retry_max_attempts: int = Field(
        default=8, description="Delivery attempts before a notification is marked failed."
    )
    alarm_max_shelve_s: float = Field(
        default=86_400.0, description="Longest time an operator may shelve an alarm."
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
