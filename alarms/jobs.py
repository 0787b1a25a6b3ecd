"""The scheduler's alarm jobs (listed in ``shell.jobs.JOBS``): clock-driven rules and the outbox."""

from __future__ import annotations

from sqlalchemy import Engine, text

from alarms import evaluate, notify
from alarms.config import AlarmConfig
from alarms.engine import run_retrying
from core.settings import get_settings

_cache = evaluate.RuleCache()


def _config() -> AlarmConfig:
    return AlarmConfig.from_settings(get_settings())


def evaluate_time_rules(engine: Engine, config: AlarmConfig | None = None) -> int:
    """Stale-data, demand, forecast-deviation and budget rules, shelving expiry; delivers what
    they announce."""
    config = config or _config()
    ids = run_retrying(engine, lambda conn: evaluate.evaluate_timed(conn, config, _cache))
    if ids:
        deliver_notifications(engine, config)
    return len(ids or [])


def deliver_notifications(engine: Engine, config: AlarmConfig | None = None) -> int:
    """Flood summaries, then every due delivery and retry (of any process's outbox)."""
    config = config or _config()
    run_retrying(engine, lambda conn: evaluate.flood_summaries(conn, config))
    with engine.connect() as conn:
        due = dict(
            conn.execute(
                text(
                    "SELECT channel, count(*) FROM alarm_notification WHERE status = 'pending' "
                    "AND next_attempt_at <= now() GROUP BY channel"
                )
            ).all()
        )
    sent = 0
    if due.get("mqtt"):
        publisher = notify.MqttPublisher(config.mqtt_host, config.mqtt_port).start()
        try:
            sent += notify.deliver_all(engine, "mqtt", publisher.send, config)
        finally:
            publisher.stop()
    if due.get("webhook"):
        hooks = notify.WebhookSender(config.webhook_timeout_s)
        try:
            sent += notify.deliver_all(engine, "webhook", hooks.send, config)
        finally:
            hooks.close()
    return sent
