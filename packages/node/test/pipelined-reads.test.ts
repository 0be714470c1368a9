// Reads on pipelined connections (pipelined-reads.ts), against a real PostgreSQL server: a
// turn's reads leave in one write on one connection and come back in order; a second
// connection opens only while the first is busy; a failed read fails alone; a broken
// connection fails what was outstanding on it and is replaced; reads that find every
// connection stalled go to the fallback; a closed set refuses reads.
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PipelinedReads } from '../src/store/pipelined-reads.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

const internals = (set: PipelinedReads) =>
  set as unknown as { connections: { client: pg.Client }[] }
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** The backend's process id and the read's own number, as one row. */
const whoAnswers = (n: number): pg.QueryArrayConfig => ({
  name: 'who-answers',
  text: 'SELECT pg_backend_pid(), $1::int, current_setting($2)',
  values: [n, 'application_name'],
  rowMode: 'array',
})

describe.skipIf(!pgUrl)('PipelinedReads', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let reads: PipelinedReads | undefined
  let fallback: pg.Pool
  const open = (options: Partial<ConstructorParameters<typeof PipelinedReads>[1]> = {}) => {
    reads = new PipelinedReads(pg, {
      connectionString: db.url,
      size: 2,
      applicationName: 'pipelined-test',
      fallback: (config) => fallback.query(config),
      ...options,
    })
    return reads
  }

  beforeAll(async () => {
    db = await freshDatabase()
    fallback = new pg.Pool({ connectionString: db.url, application_name: 'fallback' })
  })
  afterEach(async () => {
    await reads?.end()
    reads = undefined
  })
  afterAll(async () => {
    await fallback?.end()
    await db?.drop()
  })

  it("answers a turn's reads in order, on one connection, sent in one write", async () => {
    const set = open({ setup: "SET application_name = 'set up'" })
    // The first turn opens a connection; wait until it answers, so the next turn corks it.
    const [first] = (await set.query<[number, number, string]>(whoAnswers(0))).rows
    const writes: number[] = []
    const stream = internals(set).connections[0]!.client.connection.stream as unknown as {
      _writev: (...a: unknown[]) => unknown
    }
    const writev = stream._writev.bind(stream)
    stream._writev = (chunks: unknown[], ...rest: unknown[]) => {
      writes.push(chunks.length)
      return writev(chunks, ...rest)
    }
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => set.query<[number, number, string]>(whoAnswers(i + 1))),
    )
    expect(results.map((r) => r.rows[0]![1])).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(new Set(results.map((r) => r.rows[0]![0]))).toEqual(new Set([first![0]]))
    // The setup ran before the first read.
    expect(first![2]).toBe('set up')
    // One write held all twenty reads (Bind, Describe, Execute and Sync each).
    expect(writes).toEqual([80])
  })

  it('opens a second connection only while the first is busy, and never more than size', async () => {
    const set = open()
    await set.query(whoAnswers(0))
    expect(set.totalCount).toBe(1)
    // Idle between turns: the same connection again.
    await set.query(whoAnswers(1))
    expect(set.totalCount).toBe(1)
    const busy = [set.query<[number]>(whoAnswers(2))]
    await nextTurn()
    busy.push(set.query<[number]>(whoAnswers(3)))
    await nextTurn()
    busy.push(set.query<[number]>(whoAnswers(4)))
    expect(set.waitingCount).toBeGreaterThan(0)
    const pids = (await Promise.all(busy)).map((r) => r.rows[0]![0])
    expect(set.totalCount).toBe(2)
    expect(new Set(pids).size).toBe(2)
    expect(set.idleCount).toBe(2)
    expect(set.waitingCount).toBe(0)
  })

  it('fails a cancelled read alone: the reads behind it on its connection are answered', async () => {
    const set = open({ size: 1, statementTimeoutMs: 100 })
    await set.query(whoAnswers(0))
    const slow = set.query({ text: 'SELECT pg_sleep(5)', rowMode: 'array' })
    const after = [1, 2, 3].map((n) => set.query<[number, number]>(whoAnswers(n)))
    await expect(slow).rejects.toThrow(/statement timeout/)
    expect((await Promise.all(after)).map((r) => r.rows[0]![1])).toEqual([1, 2, 3])
  })

  it('fails the reads outstanding on a broken connection, then reads on a new one', async () => {
    const set = open({ size: 1 })
    const [[pid]] = (await set.query<[number]>(whoAnswers(0))).rows
    const { client } = internals(set).connections[0]!
    const ended = new Promise((resolve) => client.once('end', resolve))
    const outstanding = set.query({ text: 'SELECT pg_sleep(5)', rowMode: 'array' })
    const admin = new pg.Client({ connectionString: db.url })
    await admin.connect()
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
    await admin.end()
    await expect(outstanding).rejects.toThrow(/terminat/)
    // The server's FATAL answer comes just before it closes the socket.
    await ended
    const [[pidAfter, n]] = (await set.query<[number, number]>(whoAnswers(7))).rows
    expect(n).toBe(7)
    expect(pidAfter).not.toBe(pid)
    expect(set.totalCount).toBe(1)
  })

  it('sends reads to the fallback while every connection is stalled, and back once not', async () => {
    const set = open({ size: 1, stallMs: 20 })
    const [[pid]] = (await set.query<[number]>(whoAnswers(0))).rows
    const slow = set.query({ text: 'SELECT pg_sleep(0.5)', rowMode: 'array' })
    // Past stallMs the connection takes no new turn.
    await new Promise((resolve) => setTimeout(resolve, 60))
    const [[, n, from]] = (await set.query<[number, number, string]>(whoAnswers(1))).rows
    expect([n, from]).toEqual([1, 'fallback'])
    expect(set.waitingCount).toBe(1)
    await slow
    const [[pidAfter, , fromAfter]] = (await set.query<[number, number, string]>(whoAnswers(2)))
      .rows
    expect([pidAfter, fromAfter]).toEqual([pid, 'pipelined-test'])
  })

  it('refuses reads once ended', async () => {
    const set = open()
    await set.query(whoAnswers(0))
    await set.end()
    await expect(set.query(whoAnswers(1))).rejects.toThrow(/closed/)
    expect(set.totalCount).toBe(0)
  })
})
