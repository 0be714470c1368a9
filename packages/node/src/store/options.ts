// The event store's options: SQLite's durability of a commit and the threads that answer
// queries; the backend, and PostgreSQL's URL, pool and statement timeout.
import { cpus } from 'node:os'
import { lit, option } from '../config/option.js'

export const storageOptions = option.section({
  synchronous: option.choice(
    [lit('full'), lit('normal')],
    'full',
    'SQLite synchronous mode. full: an acknowledged event survives power loss; normal: it survives a crash of the process.',
  ),
  readerThreads: option.integer(Math.max(1, cpus().length), {
    description:
      'Threads that answer REQ and COUNT from the store. 0 answers them on the main thread.',
    min: 0,
    defaultText: 'number of CPU cores',
  }),
  backend: option.choice(
    [lit('sqlite'), lit('postgres')],
    'sqlite',
    'Where the node keeps its events, billing and order book. sqlite: files in dataDir (one process). postgres: the database at storage.url, which several node processes with the same key may share (docs/scaling.md).',
  ),
  url: option.string('', {
    description:
      'PostgreSQL connection URL (postgres://user:password@host:port/database) when storage.backend is postgres. Prefer the environment variable for a password.',
  }),
  readUrl: option.string('', {
    description:
      'PostgreSQL read replica for REQ and COUNT (optional; empty: storage.url). Writes and live fan-out stay on storage.url.',
  }),
  poolSize: option.integer(10, {
    description:
      "The most connections in each of a node process's PostgreSQL pools (main, and the replica's), plus one for LISTEN and up to two (pipelined) for kept-plan reads.",
    min: 1,
  }),
  statementTimeoutMs: option.integer(10000, {
    description:
      'A PostgreSQL statement running longer is cancelled (its request fails with error:). 0: no limit.',
    min: 0,
  }),
  maxQueuedQueries: option.integer(512, {
    description:
      'Queries waiting for the reader threads at most; past it a REQ or COUNT is refused CLOSED "rate-limited: the node is busy…".',
    min: 1,
  }),
  queryTimeoutMs: option.integer(5000, {
    description:
      'Time budget of one query on a reader thread; past it the thread is stopped and replaced, and the REQ is closed (CLOSED "error: …").',
    min: 10,
  }),
})
