// The SQLite store's options: durability of a commit and the threads that answer queries.
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
