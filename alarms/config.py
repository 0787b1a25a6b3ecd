"""What the alarm code needs from the settings, as one small immutable value."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings


@dataclass(frozen=True)
class AlarmConfig:
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    topic: str = "ecc/alarms"
    webhook_urls: tuple[str, ...] = ()
    rule_burst: int = 6
    rule_window_s: float = 600.0
    global_per_min: int = 120
    summary_interval_s: float = 60.0
    webhook_timeout_s: float = 5.0
    retry_base_s: float = 1.0
    retry_max_attempts: int = 8
    max_shelve_s: float = 86_400.0

    @classmethod
    def from_settings(cls, s: Settings) -> AlarmConfig:
        return cls(
            mqtt_host=s.mqtt_host,
            mqtt_port=s.mqtt_port,
            topic=s.alarm_mqtt_topic.rstrip("/"),
            webhook_urls=tuple(u.strip() for u in s.alarm_webhook_urls.split(",") if u.strip()),
            rule_burst=s.alarm_rule_burst,
            rule_window_s=s.alarm_rule_window_s,
            global_per_min=s.alarm_global_per_min,
            summary_interval_s=s.alarm_summary_interval_s,
            webhook_timeout_s=s.alarm_webhook_timeout_s,
            retry_base_s=s.alarm_retry_base_s,
            retry_max_attempts=s.alarm_retry_max_attempts,
            max_shelve_s=s.alarm_max_shelve_s,
        )
