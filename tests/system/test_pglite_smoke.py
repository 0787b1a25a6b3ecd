"""Smoke test of the PGlite + TimescaleDB (WASM) harness in tests/pglite/.

Skips when node/npm are unavailable (set ECC_PGLITE_REQUIRED=1 to fail instead).
Remember the server's limits: one connection at a time, prepare_threshold=None,
no COPY FROM STDIN, no executemany/pipeline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.pglite.harness import PgliteServer, start_pglite_or_skip

pytestmark = pytest.mark.timescale

US = timedelta(microseconds=1)

INSERT_SQL = """
    INSERT INTO reading (meter_id, ts, value)
    SELECT * FROM unnest(%s::int[], %s::timestamptz[], %s::float8[])
    ON CONFLICT DO NOTHING
    RETURNING meter_id, ts
"""


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def pglite(tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp("pglite") / "pgdata"
    srv = start_pglite_or_skip(data_dir)
    try:
        yield srv
    finally:
        srv.stop()


def _insert(conn, rows: list[tuple[int, str, float]]) -> set[tuple[int, datetime]]:
    cur = conn.execute(
        INSERT_SQL,
        ([r[0] for r in rows], [utc(r[1]) for r in rows], [float(r[2]) for r in rows]),
    )
    return {(m, ts) for m, ts in cur.fetchall()}


def test_timescaledb_hypertable_and_caggs(pglite: PgliteServer) -> None:
    with pglite.connect(autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        version = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
        ).fetchone()
        assert version is not None

        conn.execute(
            """
            CREATE TABLE reading (
                meter_id    int              NOT NULL,
                ts          timestamptz      NOT NULL,
                value       double precision NOT NULL,
                energy      double precision,
                received_at timestamptz      NOT NULL DEFAULT now(),
                PRIMARY KEY (meter_id, ts)
            )
            """
        )
        conn.execute("SELECT create_hypertable('reading', by_range('ts', INTERVAL '1 day'))")
        n_chunks_dims = conn.execute(
            "SELECT count(*) FROM timescaledb_information.hypertables "
            "WHERE hypertable_name = 'reading'"
        ).fetchone()
        assert n_chunks_dims == (1,)

        # Buckets closed at the end: (00:00, 00:15] via a +1 microsecond offset.
        conn.execute(
            """
            CREATE MATERIALIZED VIEW reading_1m
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT meter_id,
                   time_bucket(INTERVAL '1 minute', ts, "offset" => INTERVAL '1 microsecond')
                       AS bucket,
                   sum(value) AS sum, count(*) AS count, min(value) AS min,
                   max(value) AS max, last(value, ts) AS last
            FROM reading GROUP BY meter_id, bucket
            WITH NO DATA
            """
        )
        conn.execute(
            """
            CREATE MATERIALIZED VIEW reading_15m
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT meter_id,
                   time_bucket(INTERVAL '15 minutes', bucket, "offset" => INTERVAL '1 microsecond')
                       AS bucket,
                   sum(sum) AS sum, sum(count)::bigint AS count, min(min) AS min,
                   max(max) AS max, last(last, bucket) AS last
            FROM reading_1m GROUP BY meter_id, 2
            WITH NO DATA
            """
        )
        conn.execute(
            """
            CREATE MATERIALIZED VIEW reading_1d
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT meter_id,
                   time_bucket(INTERVAL '1 day', bucket, 'Asia/Shanghai',
                               "offset" => INTERVAL '1 microsecond') AS bucket,
                   sum(sum) AS sum, sum(count)::bigint AS count, min(min) AS min,
                   max(max) AS max, last(last, bucket) AS last
            FROM reading_15m GROUP BY meter_id, 2
            WITH NO DATA
            """
        )

        rows = [
            (1, "2025-01-01 00:00:00", 1),  # closes (23:45, 00:00]
            (1, "2025-01-01 00:07:00", 10),
            (1, "2025-01-01 00:15:00", 100),  # closes (00:00, 00:15]
            (1, "2025-01-01 00:20:00", 1000),
            (1, "2025-01-01 16:00:00", 10000),  # 00:00 Shanghai: closes local Jan 1
            (1, "2025-01-01 16:00:01", 100000),  # local Jan 2
        ]
        added = _insert(conn, rows)
        assert len(added) == len(rows)
        # Retry of the same batch plus one new row: only the new row comes back.
        again = _insert(conn, [*rows[:2], (2, "2025-01-01 00:00:00", 5)])
        assert again == {(2, utc("2025-01-01 00:00:00"))}

        # UPDATE in an uncompressed chunk, and a temp table.
        status = conn.execute(
            "UPDATE reading SET energy = 0.5 WHERE meter_id = 1 AND ts = %s",
            (utc("2025-01-01 00:07:00"),),
        ).statusmessage
        assert status == "UPDATE 1"
        conn.execute("CREATE TEMP TABLE stage (meter_id int, ts timestamptz, value float8)")
        conn.execute("DROP TABLE stage")

        for view in ("reading_1m", "reading_15m", "reading_1d"):
            conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")

        q15 = conn.execute(
            "SELECT bucket, sum, count, last FROM reading_15m WHERE meter_id = 1 ORDER BY bucket"
        ).fetchall()
        assert q15[:3] == [
            (utc("2024-12-31 23:45:00") + US, 1.0, 1, 1.0),
            (utc("2025-01-01 00:00:00") + US, 110.0, 2, 100.0),
            (utc("2025-01-01 00:15:00") + US, 1000.0, 1, 1000.0),
        ]
        q1d = conn.execute(
            "SELECT bucket, sum, count FROM reading_1d WHERE meter_id = 1 ORDER BY bucket"
        ).fetchall()
        assert q1d == [
            (utc("2024-12-31 16:00:00") + US, 11111.0, 5),
            (utc("2025-01-01 16:00:00") + US, 100000.0, 1),
        ]

        # Late data below the watermark shows up after another refresh.
        _insert(conn, [(1, "2025-01-01 00:05:00", 0.25)])
        for view in ("reading_1m", "reading_15m", "reading_1d"):
            conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
        late = conn.execute(
            "SELECT sum, count FROM reading_15m WHERE meter_id = 1 AND bucket = %s",
            (utc("2025-01-01 00:00:00") + US,),
        ).fetchone()
        assert late == (110.25, 3)

        # Compression settings, manual compression, and policies (registered only).
        conn.execute(
            "ALTER TABLE reading SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'meter_id', timescaledb.compress_orderby = 'ts')"
        )
        conn.execute("SELECT add_compression_policy('reading', INTERVAL '7 days')")
        conn.execute("SELECT add_retention_policy('reading', INTERVAL '400 days')")
        compressed = conn.execute(
            "SELECT compress_chunk(c) FROM show_chunks('reading') c"
        ).fetchall()
        assert compressed
        total = conn.execute("SELECT count(*), sum(value) FROM reading").fetchone()
        assert total == (8, 111116.25)


def test_reopened_data_dir_reads_compressed_chunks(tmp_path) -> None:
    """Regression: a reopened data dir must load TimescaleDB (server.mjs runs
    LOAD 'timescaledb'); otherwise compressed chunks read as empty and caggs crash."""
    data_dir = tmp_path / "pgdata"
    with start_pglite_or_skip(data_dir) as srv, srv.connect(autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        conn.execute("CREATE TABLE h (meter_id int NOT NULL, ts timestamptz NOT NULL, v float8)")
        conn.execute("SELECT create_hypertable('h', by_range('ts', INTERVAL '1 day'))")
        conn.execute(
            "INSERT INTO h SELECT 1, t, 1.0 FROM generate_series("
            "TIMESTAMPTZ '2025-01-01', TIMESTAMPTZ '2025-01-03', INTERVAL '1 hour') t"
        )
        conn.execute(
            """
            CREATE MATERIALIZED VIEW h_1h WITH (timescaledb.continuous) AS
            SELECT meter_id, time_bucket(INTERVAL '1 hour', ts) AS bucket, sum(v) AS sum
            FROM h GROUP BY meter_id, bucket
            """
        )
        conn.execute(
            "ALTER TABLE h SET (timescaledb.compress, timescaledb.compress_segmentby = 'meter_id')"
        )
        conn.execute("SELECT compress_chunk(c) FROM show_chunks('h') c")
        before = conn.execute("SELECT count(*), sum(v) FROM h").fetchone()
        cagg_before = conn.execute("SELECT count(*), sum(sum) FROM h_1h").fetchone()
    assert before == (49, 49.0)

    with start_pglite_or_skip(data_dir) as srv, srv.connect() as conn:
        assert conn.execute("SELECT count(*), sum(v) FROM h").fetchone() == before
        assert conn.execute("SELECT count(*), sum(sum) FROM h_1h").fetchone() == cagg_before


# --- the harness keeps the server's stderr and restarts it once when it dies early -----------


def _create_and_count(srv: PgliteServer) -> int:
    with srv.connect(autocommit=True, connect_timeout=5) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS first_write (k int)")
        conn.execute("INSERT INTO first_write VALUES (1)")
        return conn.execute("SELECT count(*) FROM first_write").fetchone()[0]


def test_server_dead_before_the_first_write_is_restarted_once(tmp_path) -> None:
    with start_pglite_or_skip(tmp_path / "pgdata") as srv:
        url = srv.url
        srv.process.kill()  # the WASM server dies before anything was written
        srv.process.wait(timeout=10)
        assert srv.first_write(lambda: _create_and_count(srv)) == 1
        assert srv.restarts == 1 and srv.alive and srv.url == url  # same port: URLs stay valid
        assert "exited with code -9; restarted" in srv.stderr_text()
        # a second death is not absorbed
        srv.process.kill()
        srv.process.wait(timeout=10)
        with pytest.raises(Exception):  # noqa: B017 - whatever psycopg raises on a dead server
            srv.first_write(lambda: _create_and_count(srv))


def test_a_live_server_failure_is_not_retried(tmp_path) -> None:
    def bad() -> None:
        with srv.connect() as conn:
            conn.execute("SELECT * FROM no_such_table")

    with start_pglite_or_skip(tmp_path / "pgdata") as srv:
        with pytest.raises(Exception, match="no_such_table"):
            srv.first_write(bad)
        assert srv.restarts == 0 and srv.alive


def test_server_dying_before_ready_is_started_again(tmp_path, monkeypatch) -> None:
    from tests.support.pglite import harness

    marker = tmp_path / "died-once"
    flaky = tmp_path / "flaky.mjs"
    flaky.write_text(
        "import { existsSync, writeFileSync } from 'node:fs';\n"
        f"if (!existsSync({str(marker)!r})) {{\n"
        f"  writeFileSync({str(marker)!r}, 'x');\n"
        "  console.error('simulated WASM abort before READY');\n"
        "  process.exit(7);\n"
        "}\n"
        f"await import({harness.SERVER_SCRIPT.as_uri()!r});\n"
    )
    monkeypatch.setattr(harness, "SERVER_SCRIPT", flaky)
    # two starts in one test, late in the suite on a loaded two-core box: each may take long
    # to load the WASM TimescaleDB (once it did not print READY within the default 60 s)
    with start_pglite_or_skip(tmp_path / "pgdata", timeout_s=240) as srv:
        assert _create_and_count(srv) == 1
        log = srv.stderr_text()
    assert "simulated WASM abort before READY" in log
    assert "exited with code 7 before READY; started again" in log


def test_stderr_is_kept_for_the_failure_report(tmp_path) -> None:
    from tests.support.pglite import harness

    srv = start_pglite_or_skip(tmp_path / "pgdata")
    since = srv.started_at
    srv.process.kill()
    srv.process.wait(timeout=10)
    srv.restart()
    srv.stop()
    sections = dict(harness.report_sections(since))
    title = next(t for t in sections if srv.url in t)
    assert "restarts: 1" in title
    assert "restarted" in sections[title]  # kept after the server stopped
    # a server stopped before a test began is not attached to that test's report
    assert not [t for t, _ in harness.report_sections(srv.stopped_at + 1) if srv.url in t]
