// `--profile DIR`: a CPU profile of each phase, for the node's main thread and each of its
// worker threads (verify, writer, readers), through the V8 inspector the node opens when it
// is started with `--inspect=127.0.0.1:0`. Node's own `--cpu-prof` profiles a whole process
// lifetime; this starts and stops the sampler around one phase, so each file shows where
// that phase's time went. Open the .cpuprofile files in Chrome DevTools (Performance) or
// speedscope. Profiling costs the node CPU of its own: compare CPU figures of runs without it.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import WebSocket from 'ws'

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void }
type Target = { name: string; send: (method: string, params?: unknown) => Promise<unknown> }

/** Sampling interval, µs: V8's default (1 ms) misses most of a 40 µs event. */
const SAMPLING_US = 200

export class NodeProfiler {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly workers = new Map<string, { title: string; pending: Map<number, Pending> }>()

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.onMessage(JSON.parse(String(data))))
  }

  /** Connects to the node's inspector (the `ws://…` it prints) and attaches to its workers. */
  static async connect(inspectorUrl: string): Promise<NodeProfiler> {
    const socket = new WebSocket(inspectorUrl, { perMessageDeflate: false })
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    const profiler = new NodeProfiler(socket)
    await profiler.call('NodeWorker.enable', { waitForDebuggerOnStart: false })
    // Attach events arrive right after enable; give them a moment.
    await new Promise((r) => setTimeout(r, 300))
    return profiler
  }

  private call(method: string, params?: unknown): Promise<unknown> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.socket.send(JSON.stringify({ id, method, params }))
    })
  }

  private onMessage(m: {
    id?: number
    method?: string
    params?: Record<string, unknown>
    result?: unknown
    error?: { message: string }
  }): void {
    if (m.id !== undefined) settle(this.pending, m)
    else if (m.method === 'NodeWorker.attachedToWorker') {
      const p = m.params as { sessionId: string; workerInfo: { title: string } }
      this.workers.set(p.sessionId, { title: p.workerInfo.title, pending: new Map() })
    } else if (m.method === 'NodeWorker.detachedFromWorker') {
      this.workers.delete((m.params as { sessionId: string }).sessionId)
    } else if (m.method === 'NodeWorker.receivedMessageFromWorker') {
      const p = m.params as { sessionId: string; message: string }
      const worker = this.workers.get(p.sessionId)
      if (worker) settle(worker.pending, JSON.parse(p.message))
    }
  }

  private targets(): Target[] {
    const out: Target[] = [{ name: 'main', send: (method, params) => this.call(method, params) }]
    let n = 0
    for (const [sessionId, worker] of this.workers) {
      const name = `${(worker.title || 'worker').replace(/[^a-z0-9-]+/gi, '-')}-${n++}`
      out.push({
        name,
        send: (method, params) => {
          const id = this.nextId++
          const reply = new Promise((resolve, reject) =>
            worker.pending.set(id, { resolve, reject }),
          )
          void this.call('NodeWorker.sendMessageToWorker', {
            sessionId,
            message: JSON.stringify({ id, method, params }),
          })
          return reply
        },
      })
    }
    return out
  }

  private running: Target[] = []

  /** Starts the sampler on every thread. */
  async start(): Promise<void> {
    this.running = this.targets()
    await Promise.all(
      this.running.map(async (t) => {
        await t.send('Profiler.enable')
        await t.send('Profiler.setSamplingInterval', { interval: SAMPLING_US })
        await t.send('Profiler.start')
      }),
    )
  }

  /** Stops every sampler and writes `<phase>.<thread>.cpuprofile` into `dir`; returns the files. */
  async stop(dir: string, phase: string): Promise<string[]> {
    const files: string[] = []
    await Promise.all(
      this.running.map(async (t) => {
        try {
          const { profile } = (await withTimeout(t.send('Profiler.stop'), 10_000)) as {
            profile: unknown
          }
          const file = join(dir, `${phase}.${t.name}.cpuprofile`)
          writeFileSync(file, JSON.stringify(profile))
          files.push(file)
        } catch {
          // A worker replaced during the phase has no profile to give.
        }
      }),
    )
    this.running = []
    return files.sort()
  }

  close(): void {
    this.socket.close()
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref()),
  ])

function settle(
  pending: Map<number, Pending>,
  m: { id?: number; result?: unknown; error?: { message: string } },
): void {
  const p = m.id === undefined ? undefined : pending.get(m.id)
  if (!p || m.id === undefined) return
  pending.delete(m.id)
  if (m.error) p.reject(new Error(m.error.message))
  else p.resolve(m.result)
}
