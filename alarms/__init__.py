"""Alarms: rules set by shift engineers, evaluated on the live ingest stream and by the clock,
with the ISA-18.2 lifecycle, notification (MQTT, webhooks) and flood protection.

=============== ==============================================================================
module          holds
=============== ==============================================================================
``lifecycle``   the ISA-18.2 state machine (pure)
``conditions``  limit, deadband and on/off-delay over a series (pure numpy)
``schedule``    shift schedules, idle periods and holidays as masks over reading times
``rules``       rule validation and create/update/delete
``store``       row-locked alarm points, transitions recorded as append-only history
``evaluate``    batch evaluation (ingest stream) and clock-driven rules (stale, demand)
``outbox``      notifications written with the transitions, flood protection
``notify``      delivery: MQTT, webhooks, retries with backoff
``engine``      the per-process runtime fed by the reading bus
``jobs``        the scheduler's alarm jobs
``service``     what the API asks: lists, operator actions, history
``metrics``     KPIs of the alarm system
=============== ==============================================================================
"""
