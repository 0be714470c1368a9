// The process's CPU time by thread: the event loop, each WorkerPool's threads under the pool's
// name (the verify stage, the store's writer and readers), and everything else (V8's garbage
// collector and compiler helpers, libuv). Read from Linux's /proc at each scrape, so a
// coordinator sees which stage a busy node spends its cores on, and the relay bench can say
// what an event costs each of them. Elsewhere there is no /proc and nothing is reported.
//
// The figures are for the whole process: with several nodes in one process (devnet, tests)
// their threads add up under the same names.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { Counter, type Registry } from 'prom-client'

/** Linux's USER_HZ: the unit of utime and stime in /proc's stat files, 100 on every common build. */
const CLOCK_TICKS = 100

/** The thread names: the event loop, a pool's name without `hansa-`, or `other`. */
export const EVENT_LOOP_THREAD = 'event-loop'
export const OTHER_THREADS = 'other'

/** User and system (kernel) CPU seconds of a thread, by the names /metrics gives them. */
export type CpuSeconds = { user: number; system: number }

/** Pool threads by kernel thread id, registered by WorkerPool once each says it is ready. */
const named = new Map<number, string>()

/**
 * CPU seconds of threads that have exited, by name, and the last reading of each live thread:
 * a thread's time stays counted after it ends (read at the scrape before, so at most one
 * scrape's worth of an exiting thread's time is missed).
 */
const exited = new Map<string, CpuSeconds>()
const lastSeen = new Map<number, { name: string; cpu: CpuSeconds }>()

/** The kernel's id of the calling thread (Linux), or undefined. */
export function ownThreadId(): number | undefined {
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>" for whichever thread reads it.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    return Number.isInteger(tid) && tid > 0 ? tid : undefined
  } catch {
    return undefined
  }
}

/** Counts thread `tid`'s CPU under `name` (a pool's name; a leading `hansa-` is dropped). */
export function nameThread(tid: number, name: string): void {
  named.set(tid, name.replace(/^hansa-/, ''))
}

/** Stops naming thread `tid` (its pool saw it exit); what it used stays counted. */
export function forgetThread(tid: number): void {
  named.delete(tid)
}

/** User and system CPU seconds from the text of a /proc stat file. */
export function parseStatSeconds(text: string): CpuSeconds {
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS }
}

const add = (totals: Map<string, CpuSeconds>, name: string, cpu: CpuSeconds) => {
  const t = totals.get(name)
  totals.set(name, { user: (t?.user ?? 0) + cpu.user, system: (t?.system ?? 0) + cpu.system })
}

/** CPU seconds by thread name since the process started; undefined without /proc. */
export function threadCpuSeconds(): Map<string, CpuSeconds> | undefined {
  let tids: string[]
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    return undefined
  }
  const totals = new Map<string, CpuSeconds>(exited)
  const live = new Set<number>()
  for (const entry of tids) {
    const tid = Number(entry)
    let cpu: CpuSeconds
    try {
      cpu = parseStatSeconds(readFileSync(`/proc/self/task/${entry}/stat`, 'utf8'))
    } catch {
      continue // it ended between the listing and the read
    }
    const name = tid === process.pid ? EVENT_LOOP_THREAD : (named.get(tid) ?? OTHER_THREADS)
    add(totals, name, cpu)
    lastSeen.set(tid, { name, cpu })
    live.add(tid)
  }
  for (const [tid, last] of lastSeen) {
    if (live.has(tid)) continue
    add(exited, last.name, last.cpu)
    add(totals, last.name, last.cpu)
    lastSeen.delete(tid)
    named.delete(tid)
  }
  return totals
}

/** `hansa_thread_cpu_seconds_total{thread, mode}`, read at each scrape. */
export function registerThreadCpuMetric(registry: Registry): void {
  new Counter({
    name: 'hansa_thread_cpu_seconds_total',
    help: "CPU seconds of this process's threads, by thread (event-loop, verify, store-writer, store-reader, other: V8 and libuv helpers) and mode (user, or system: in the kernel)",
    labelNames: ['thread', 'mode'] as const,
    registers: [registry],
    collect() {
      const totals = threadCpuSeconds()
      if (!totals) return
      this.reset()
      // Whole clock ticks: sums of several threads' seconds would otherwise print as 0.22999…
      const ticks = (seconds: number) => Math.round(seconds * CLOCK_TICKS) / CLOCK_TICKS
      for (const [thread, cpu] of totals) {
        this.inc({ thread, mode: 'user' }, ticks(cpu.user))
        this.inc({ thread, mode: 'system' }, ticks(cpu.system))
      }
    },
  })
}
