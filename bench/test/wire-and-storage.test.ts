// The small parsers the benchmark relies on: relay frames, /metrics, /proc, byte formatting.
import { describe, expect, it } from 'vitest'
import { cpuPer1000, parseProcStat, parseSystemStat } from '../dist/cpu.js'
import { parseBanner } from '../dist/node-process.js'
import { queryFilter } from '../dist/query.js'
import {
  formatBytes,
  growthPerYear,
  httpUrlOf,
  nodeSideFigures,
  parsePrometheus,
} from '../dist/storage.js'
import { classifyFrame, reasonPrefix } from '../dist/ws-client.js'

const frame = (m: unknown) =>
  classifyFrame(Buffer.from(typeof m === 'string' ? m : JSON.stringify(m)))

describe('classifyFrame', () => {
  it('reads only the subscription id of an EVENT', () => {
    expect(frame('["EVENT","q17",{"id":"ab"}]')).toEqual({ type: 'EVENT', subId: 'q17' })
  })
  it('parses the other messages', () => {
    const id = 'a'.repeat(64)
    expect(frame(['OK', id, false, 'rate-limited: slow down'])).toEqual({
      type: 'OK',
      id,
      ok: false,
      message: 'rate-limited: slow down',
    })
    expect(frame(['EOSE', 'q1'])).toEqual({ type: 'EOSE', subId: 'q1' })
    expect(frame(['CLOSED', 'q1', 'auth-required: x'])).toEqual({
      type: 'CLOSED',
      subId: 'q1',
      message: 'auth-required: x',
    })
    expect(frame(['AUTH', 'c0ffee'])).toEqual({ type: 'AUTH', challenge: 'c0ffee' })
    expect(frame('not json').type).toBe('OTHER')
  })
  it('names a refusal by its prefix', () => {
    expect(reasonPrefix('rate-limited: slow down')).toBe('rate-limited')
    expect(reasonPrefix('')).toBe('(no message)')
  })
})

describe('queryFilter', () => {
  const pick = { recipient: 'r', author: 'a', since: 5 }
  it('builds the three queries', () => {
    expect(queryFilter('byP', pick, 100)).toEqual({ '#p': ['r'], kinds: [1059], limit: 100 })
    expect(queryFilter('byAuthor', pick, 100)).toEqual({ authors: ['a'], limit: 100 })
    expect(queryFilter('byKindSince', pick, 100)).toEqual({ kinds: [1], since: 5, limit: 100 })
  })
})

describe('storage figures', () => {
  it('reads samples from /metrics, a labelled one under its labels', () => {
    const m = parsePrometheus(
      '# HELP x\nhansa_stored_bytes 4096\nhansa_stored_events 3\nfoo{a="b"} 1\n',
    )
    expect(m.get('hansa_stored_bytes')).toBe(4096)
    expect(m.get('hansa_stored_events')).toBe(3)
    expect(m.has('foo')).toBe(false)
    expect(m.get('foo{a="b"}')).toBe(1)
  })
  it("takes the node's CPU by thread over a phase from two readings", () => {
    const read = (loop: number, loopSystem: number, verify: number) =>
      parsePrometheus(
        `hansa_thread_cpu_seconds_total{thread="event-loop",mode="user"} ${loop}\n` +
          `hansa_thread_cpu_seconds_total{thread="event-loop",mode="system"} ${loopSystem}\n` +
          `hansa_thread_cpu_seconds_total{thread="verify",mode="user"} ${verify}\n` +
          `hansa_thread_cpu_seconds_total{thread="verify",mode="system"} 0.5\n` +
          'hansa_stored_events 1\n',
      )
    const phase = nodeSideFigures(read(1.5, 0.5, 0.25), read(2.75, 0.6, 1.01))
    expect(phase.threadCpuMs).toEqual({ 'event-loop': 1350, verify: 760 })
    expect(phase.threadSystemCpuMs).toEqual({ 'event-loop': 100, verify: 0 })
    expect(nodeSideFigures(read(1, 1, 1), read(1, 1, 1)).threadCpuMs).toEqual({
      'event-loop': 0,
      verify: 0,
    })
    expect(nodeSideFigures(new Map(), new Map()).threadCpuMs).toBeUndefined()
  })
  it('turns bytes per event into a year of growth', () => {
    expect(growthPerYear(1000, 1)).toBe(31_557_600_000)
    expect(formatBytes(31_557_600_000)).toBe('31.6 GB')
    expect(formatBytes(3_155_760_000_000)).toBe('3.16 TB')
    expect(formatBytes(999)).toBe('999 B')
    expect(formatBytes(123_456)).toBe('123 kB')
  })
  it('derives the HTTP URL from the relay URL', () => {
    expect(httpUrlOf('ws://127.0.0.1:7447')).toBe('http://127.0.0.1:7447')
    expect(httpUrlOf('wss://node.example/')).toBe('https://node.example')
  })
})

describe('process figures', () => {
  it('reads CPU seconds from /proc/<pid>/stat, even with spaces in the name', () => {
    const stat = '42 (node (main) x) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 5 0 0'
    expect(parseProcStat(stat)).toBe(3)
  })
  it('reads busy and stolen time from /proc/stat', () => {
    expect(parseSystemStat('cpu  100 0 50 900 10 0 5 7 0 0\ncpu0 1 2 3\n')).toEqual({
      busy: 1.55,
      steal: 0.07,
    })
  })
  it('gives the node CPU per 1,000 units of work, and nothing without work or a pid', () => {
    const cpu = { benchPercent: 10, nodeCpuMs: 2500, nodeMainThreadCpuMs: 600 }
    expect(cpuPer1000(cpu, 10_000)).toEqual({ nodeMs: 250, nodeMainThreadMs: 60 })
    expect(cpuPer1000(cpu, 0)).toBeUndefined()
    expect(cpuPer1000({ benchPercent: 10 }, 100)).toBeUndefined()
  })
  it('reads the URL and verifier from the node banner', () => {
    const banner = [
      'Hansa node running at ws://127.0.0.1:40001',
      '  verifier native',
      '  info     http://127.0.0.1:40001/ (NIP-11)  metrics http://127.0.0.1:40001/metrics',
    ]
    expect(parseBanner(banner)).toEqual({
      url: 'ws://127.0.0.1:40001',
      verifier: 'native',
      httpUrl: 'http://127.0.0.1:40001',
    })
  })
})
