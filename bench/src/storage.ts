// Storage cost: bytes the node's store takes per event, and the disk growth that implies.
// The node reports `hansa_stored_bytes` (SQLite pages × page size, WAL content included) and
// `hansa_stored_events` at /metrics; when the benchmark started the node itself it also
// sums the files in its data folder (database, WAL, node key).
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const SECONDS_PER_YEAR = 365.25 * 86400

/**
 * The samples of a Prometheus text exposition, by metric name with its labels as the node
 * wrote them: `hansa_stored_events`, `hansa_thread_cpu_seconds_total{thread="verify"}`.
 */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line)
    if (m) out.set(m[1]!, Number(m[2]))
  }
  return out
}

/** The node's HTTP base URL for a ws:// or wss:// relay URL (same host and port). */
export const httpUrlOf = (wsUrl: string): string =>
  wsUrl.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/$/, '')

/** GET /metrics, parsed; an error message when the node does not answer. */
export async function readMetrics(
  httpUrl: string,
): Promise<Map<string, number> | { error: string }> {
  try {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })
    if (!res.ok) return { error: `GET ${httpUrl}/metrics answered ${res.status}` }
    return parsePrometheus(await res.text())
  } catch (err) {
    return { error: `GET ${httpUrl}/metrics failed: ${(err as Error).message}` }
  }
}

export async function readStoreMetrics(
  httpUrl: string,
): Promise<{ storedBytes: number; storedEvents: number } | { error: string }> {
  const m = await readMetrics(httpUrl)
  if ('error' in m) return m
  const storedBytes = m.get('hansa_stored_bytes')
  const storedEvents = m.get('hansa_stored_events')
  if (storedBytes === undefined || storedEvents === undefined) {
    return { error: 'no hansa_stored_bytes / hansa_stored_events gauge in /metrics' }
  }
  return { storedBytes, storedEvents }
}

/** What the node itself measured during a phase, from its /metrics before and after. */
export type NodeSideFigures = {
  /** Write transactions committed, and their mean duration. */
  writeBatches?: number
  writeBatchMeanMs?: number
  /** EVENT messages received per write transaction. */
  eventsPerBatch?: number
  /** Receipt of an EVENT → its OK, inside the node. */
  okMeanMs?: number
  /** Store time of a REQ (the query alone, not sending its results). */
  queryMeanMs?: number
  /**
   * The node's CPU milliseconds by thread (`hansa_thread_cpu_seconds_total`: event-loop,
   * verify, store-writer, store-reader, other), all of its process, and the part of each
   * spent in the kernel (system time: system calls, page faults); Linux nodes only.
   */
  threadCpuMs?: Record<string, number>
  threadSystemCpuMs?: Record<string, number>
}

const THREAD_CPU = /^hansa_thread_cpu_seconds_total\{thread="([^"]+)",mode="(user|system)"\}$/

export function nodeSideFigures(
  before: Map<string, number>,
  after: Map<string, number>,
): NodeSideFigures {
  const d = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0)
  const out: NodeSideFigures = {}
  const batches = d('hansa_write_batch_duration_seconds_count')
  if (batches > 0) {
    out.writeBatches = batches
    out.writeBatchMeanMs =
      Math.round((d('hansa_write_batch_duration_seconds_sum') / batches) * 1e6) / 1e3
    out.eventsPerBatch = Math.round((d('hansa_events_received_total') / batches) * 10) / 10
  }
  const oks = d('hansa_event_ok_duration_seconds_count')
  if (oks > 0)
    out.okMeanMs = Math.round((d('hansa_event_ok_duration_seconds_sum') / oks) * 1e6) / 1e3
  const queries = d('hansa_query_duration_seconds_count')
  if (queries > 0)
    out.queryMeanMs = Math.round((d('hansa_query_duration_seconds_sum') / queries) * 1e6) / 1e3
  const all: Record<string, number> = {}
  const system: Record<string, number> = {}
  for (const key of after.keys()) {
    const [, thread, mode] = THREAD_CPU.exec(key) ?? []
    if (thread === undefined || mode === undefined) continue
    all[thread] = (all[thread] ?? 0) + d(key) * 1000
    if (mode === 'system') system[thread] = d(key) * 1000
  }
  const rounded = (ms: Record<string, number>) =>
    Object.fromEntries(Object.entries(ms).map(([thread, v]) => [thread, Math.round(v)]))
  if (Object.keys(all).length > 0) {
    out.threadCpuMs = rounded(all)
    out.threadSystemCpuMs = rounded(system)
  }
  return out
}

/** Total size of the files under `dir`. */
export function dirSize(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) total += dirSize(path)
    else if (entry.isFile()) total += statSync(path).size
  }
  return total
}

/** Decimal units, three significant digits: 31.6 GB, 3.16 TB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB']
  let v = bytes
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toPrecision(3)} ${units[u]}`
}

/** Bytes a year of `eventsPerSecond`, at `bytesPerEvent`, adds to the disk (nothing pruned). */
export const growthPerYear = (bytesPerEvent: number, eventsPerSecond: number): number =>
  bytesPerEvent * eventsPerSecond * SECONDS_PER_YEAR
