// How far V8 lets a node process's heaps grow past their live size before it marks them
// again, set once by `hansa node start` before the node starts (the flag is process-wide:
// the event loop and every worker thread).
//
// Why: left to itself, V8 sets that room from how fast the old generation filled lately. The
// relay's event loop fills it slowly (a REQ's answer is framed on a reader thread and only
// passes through), so in about half of the relay benchmark's runs V8 settled on ~24 MB of
// room over ~31 MB live — less than its young generation, which makes it start marking again
// as soon as a full collection ends: 90–130 full collections in 10 s of queries, 24–33 µs per
// query on each of four helper threads, 450–560 instead of ~380 ms of CPU per 1,000 queries.
// With the factor fixed at 2.5 (room 1.5 × live), none of twelve runs fell into it: four
// traced, then eight of the relay benchmark at 362–392 ms (README, Performance). The cost is memory: the event loop's heap may reach 2.5 × its live size
// between collections.
import { setFlagsFromString } from 'node:v8'

/** V8's heap growing factor, as `--heap-growing-percent` (factor = 1 + percent / 100). */
export const HEAP_GROWING_PERCENT = 150

/**
 * Sets the heap growing factor unless node was started with its own (`node
 * --heap-growing-percent=N …`, which a coordinator may prefer); true when it set it.
 */
export function setHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => a.startsWith('--heap-growing-percent'))) return false
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  return true
}
