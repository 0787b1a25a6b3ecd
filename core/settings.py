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
        default="Asia/Shanghai",
        description="Default IANA zone of sites created without one (each site's own "
        "`timezone` decides its days, months and years) and the UI clock's first guess.",
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
        description="The dashboard's own token, used only by the wall (a display token from "
        "`ecc displays create`); people sign in. Unset: a viewer key in data_dir.",
    )
    console_refresh_s: float = Field(
        default=10.0,
        ge=1.0,
        le=300.0,
        description="Seconds between refreshes of the engineer console's alarm list and "
        "history (each drawn again only when what it shows changed).",
    )
    wall_tiles: str = Field(
        default=(
            "load_now,energy_today,cost_today,budget_month,co2_today,carbon_intensity,"
            "renewable_share,green_share"
        ),
        description="KPI tiles of the wall screen, in order (comma-separated keys of "
        "core.wall.TILES), for sites without their own `wall_tiles`.",
    )
    pool_max_size: int = Field(default=8, description="Maximum connections in the pool.")
    db_connect_timeout_s: int = Field(
        default=3, description="Give up connecting to the database after this long (503)."
    )
    pool_timeout_s: float = Field(
        default=5.0, description="Wait this long for a free pooled connection before 503."
    )
    body_read_timeout_s: float = Field(
        default=30.0,
        description="Longest pause while reading a request body before 408 (slow senders).",
    )
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
    # accounts: people, sessions, keys (accounts/ reads these)
    session_idle_s: float = Field(
        default=2 * 3600.0, description="A session unused this long ends (idle limit)."
    )
    session_absolute_s: float = Field(
        default=13 * 3600.0,
        description="A session ends this long after sign-in whatever its use (a 12-h shift "
        "and the handover).",
    )
    auth_cache_ttl_s: float = Field(
        default=1.0,
        description="How long an API process trusts a valid credential before asking the "
        "database again: the longest a revocation takes to reach every process.",
    )
    auth_cache_size: int = Field(
        default=10_000, description="Valid credentials cached per API process (LRU)."
    )
    auth_fail_limit: int = Field(
        default=20, description="Failed authentications per client address per window (429 above)."
    )
    auth_fail_window_s: float = Field(
        default=60.0, description="Window of the failed-authentication limit."
    )
    login_lockout_after: int = Field(
        default=5, description="Failed sign-ins of one login before it is locked for a while."
    )
    login_lockout_s: float = Field(
        default=30.0,
        description="First lockout; it doubles with every further failure (at most 15 min).",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated addresses whose X-Forwarded-For names the real client "
        "(the dashboard, a TLS proxy): failed-authentication limits count per browser.",
    )
    frame_ancestors: str = Field(
        default="'self'",
        description="CSP frame-ancestors: who may frame the API and dashboard (wall hosts).",
    )
    # broker subscribers (ecc ingest-mqtt, ecc ingest-nats) and field collectors (ecc collect)
    ingest_mqtt_topic: str = Field(
        default="ecc/readings/#", description="Topic filter `ecc ingest-mqtt` subscribes to."
    )
    ingest_mqtt_client_id: str = Field(
        default="ecc-ingest",
        description="Client id of the persistent MQTT session (keep it stable across restarts).",
    )
    ingest_mqtt_deadletter_topic: str = Field(
        default="ecc/deadletter/readings", description="Where rejected items are published."
    )
    ingest_nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server.")
    ingest_nats_stream: str = Field(
        default="ECC_READINGS", description="JetStream stream of readings (created if missing)."
    )
    ingest_nats_subject: str = Field(
        default="ecc.readings.>", description="Subjects of the stream and the consumer."
    )
    ingest_nats_durable: str = Field(
        default="ecc-ingest", description="Durable consumer shared by every ingest worker."
    )
    ingest_nats_deadletter_subject: str = Field(
        default="ecc.deadletter.readings", description="Where rejected items are published."
    )
    ingest_nats_ack_wait_s: float = Field(
        default=30.0,
        description="Seconds JetStream waits for a worker's acknowledgement before it hands "
        "the message to another worker (a worker that died mid-batch).",
    )
    ingest_broker_batch: int = Field(
        default=100, description="Broker messages stored per commit by the subscribers."
    )
    # forecasting (forecasting/cluster.py reads these)
    ray_address: str | None = Field(
        default=None,
        description="Ray cluster the nightly forecasts run on (`ray://head:10001` or "
        "`head:6379`); unset: in the scheduler process.",
    )
    ray_task_retries: int = Field(
        default=3, description="Retries of a nightly forecast task whose Ray worker died."
    )
    # forecast tracking: the drift rule (forecasting.tracking.drift)
    forecast_drift_days: int = Field(
        default=14, description="Days of tracked day-ahead error the drift rule pools."
    )
    forecast_drift_margin: float = Field(
        default=0.10,
        description="A model whose tracked MAE exceeds the weekly seasonal naive's by more "
        "than this fraction is left out of the nightly selection.",
    )
    forecast_drift_min_days: int = Field(
        default=5, description="Days a model must have been in force before it can be demoted."
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
