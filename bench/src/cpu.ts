// CPU time of the benchmark itself and of the node, to tell which one limited a figure.
// Percent of one core: 100 is one core busy for the whole phase; 2 cores top out at 200.
// The node's time is read from /proc/<pid>/stat (Linux; all its threads), so only when its
// process id is known (`--spawn`, or `--node-pid`).
import { readFileSync } from 'node:fs'

/** Linux's USER_HZ: the unit of utime and stime in /proc/<pid>/stat, 100 on every common build. */
const CLOCK_TICKS = 100

/** User + system CPU seconds of a process, from the text of /proc/<pid>/stat. */
export function parseProcStat(text: string): number {
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return (utime + stime) / CLOCK_TICKS
}

export function processCpuSeconds(pid: number): number | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

/** Busy and stolen CPU seconds of the whole machine, all cores, from /proc/stat's `cpu` line. */
export function parseSystemStat(text: string): { busy: number; steal: number } | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '))
  if (!line) return undefined
  // user nice system idle iowait irq softirq steal …: busy is all but idle, iowait and steal.
  const f = line.trim().split(/\s+/).slice(1).map(Number)
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0)
  const steal = f[7] ?? 0
  return { busy: busy / CLOCK_TICKS, steal: steal / CLOCK_TICKS }
}

function systemCpuSeconds(): { busy: number; steal: number } | undefined {
  try {
    return parseSystemStat(readFileSync('/proc/stat', 'utf8'))
  } catch {
    return undefined
  }
}

const ownCpuSeconds = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

/** CPU seconds of one thread (`/proc/<pid>/task/<tid>/stat`); the main thread's tid is the pid. */
export function threadCpuSeconds(pid: number, tid: number): number | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))
  } catch {
    return undefined
  }
}

export type CpuUse = {
  /** This process (the load generator). */
  benchPercent: number
  /** The node process, all threads (signature checks run on worker threads). */
  nodePercent?: number
  /** The node's main thread alone: near 100 means the event loop itself is the limit. */
  nodeMainThreadPercent?: number
  /**
   * The node's CPU milliseconds over the phase, all threads and the main thread alone: divided
   * by the work done (cpuPer1000 in relay-load) this is the figure a busy machine hardly moves.
   */
  nodeCpuMs?: number
  nodeMainThreadCpuMs?: number
  /**
   * Every other process on the machine (busy CPU minus the two above; without the node's pid
   * it includes the node). Large figures mean
   * something else competed for the cores and the run should be repeated on a quiet machine.
   */
  otherPercent?: number
  /** CPU the hypervisor gave to other guests (virtual machines only). */
  stealPercent?: number
}

/** Starts measuring; the returned function gives the CPU use since. */
export function startCpuMeter(nodePid?: number): () => CpuUse {
  const t0 = performance.now()
  const own0 = ownCpuSeconds()
  const sys0 = systemCpuSeconds()
  const node0 = nodePid === undefined ? undefined : processCpuSeconds(nodePid)
  const main0 = nodePid === undefined ? undefined : threadCpuSeconds(nodePid, nodePid)
  return () => {
    const wall = (performance.now() - t0) / 1000
    const pct = (seconds: number) => Math.round((seconds / wall) * 100)
    const own = ownCpuSeconds() - own0
    const use: CpuUse = { benchPercent: pct(own) }
    let node = 0
    if (nodePid !== undefined && node0 !== undefined) {
      const node1 = processCpuSeconds(nodePid)
      if (node1 !== undefined) {
        node = node1 - node0
        use.nodePercent = pct(node)
        use.nodeCpuMs = Math.round(node * 1000)
      }
      const main1 = threadCpuSeconds(nodePid, nodePid)
      if (main0 !== undefined && main1 !== undefined) {
        use.nodeMainThreadPercent = pct(main1 - main0)
        use.nodeMainThreadCpuMs = Math.round((main1 - main0) * 1000)
      }
    }
    const sys1 = systemCpuSeconds()
    if (sys0 && sys1) {
      use.otherPercent = Math.max(0, pct(sys1.busy - sys0.busy - own - node))
      use.stealPercent = pct(sys1.steal - sys0.steal)
    }
    return use
  }
}

/**
 * The node's CPU per 1,000 units of work (acknowledged events, answered queries) over a phase:
 * all threads, and the main thread alone. Undefined without the node's pid or without work.
 */
export function cpuPer1000(
  cpu: CpuUse,
  units: number,
): { nodeMs: number; nodeMainThreadMs?: number } | undefined {
  if (cpu.nodeCpuMs === undefined || units <= 0) return undefined
  const per = (ms: number) => Math.round((ms / units) * 1000 * 10) / 10
  const out: { nodeMs: number; nodeMainThreadMs?: number } = { nodeMs: per(cpu.nodeCpuMs) }
  if (cpu.nodeMainThreadCpuMs !== undefined) out.nodeMainThreadMs = per(cpu.nodeMainThreadCpuMs)
  return out
}
