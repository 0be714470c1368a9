// `--spawn`: the benchmark starts its own node (`hansa node start`) in a fresh temporary data
// folder, reads the URL it prints, and stops it with SIGTERM at the end. Rate limits are
// turned off (0 = unlimited) and logging turned down, so neither throttles the measurement;
// any other HANSA_* variable in the environment (HANSA_STORAGE_SYNCHRONOUS, …) passes through.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The CLI, relative to this file once built (bench/dist/ → packages/cli/dist/main.js). */
export const DEFAULT_CLI = fileURLToPath(
  new URL('../../packages/cli/dist/main.js', import.meta.url),
)

export const BENCH_NODE_ENV = {
  HANSA_LIMITS_EVENTS_PER_SECOND: '0',
  HANSA_LIMITS_EVENTS_PER_SECOND_PER_IP: '0',
  HANSA_LIMITS_QUERIES_PER_SECOND: '0',
  HANSA_LIMITS_QUERIES_PER_SECOND_PER_IP: '0',
  HANSA_LIMITS_AUTH_PER_SECOND: '0',
  // Each connection reads the mail of a share of the 100 recipients (13 of them on 8).
  HANSA_LIMITS_MAX_AUTH_KEYS: '128',
  HANSA_LOG_LEVEL: 'warn',
} as const

export type SpawnedNode = {
  url: string
  httpUrl: string
  pid: number
  dataDir: string
  verifier?: string
  /** The V8 inspector's URL, when the node was started with `--inspect` (nodeArgs). */
  inspectorUrl?: string
  /** SIGTERM, wait for the exit (SIGKILL after 15 s), then remove the data folder unless kept. */
  stop(options?: { keepData?: boolean }): Promise<{ code: number | null; signal: string | null }>
}

/** Parses the banner `hansa node start` prints: its URLs and verifier backend. */
export function parseBanner(lines: readonly string[]): {
  url?: string
  httpUrl?: string
  verifier?: string
} {
  const out: { url?: string; httpUrl?: string; verifier?: string } = {}
  for (const line of lines) {
    const url = /Hansa node running at (wss?:\/\/\S+)/.exec(line)?.[1]
    if (url) out.url = url
    const verifier = /^\s*verifier\s+(\S+)/.exec(line)?.[1]
    if (verifier) out.verifier = verifier
    const http = /metrics (https?:\/\/\S+)\/metrics/.exec(line)?.[1]
    if (http) out.httpUrl = http
  }
  return out
}

export function spawnNode(
  options: {
    cli?: string
    /** Flags for node itself, before the script (e.g. `--inspect=127.0.0.1:0`). */
    nodeArgs?: string[]
    timeoutMs?: number
    log?: (line: string) => void
    /** More environment for this node (HANSA_STORAGE_BACKEND, …). */
    env?: Record<string, string>
    /**
     * 'off' (the default): the rate limits are turned off, as BENCH_NODE_ENV says; 'default':
     * the node's own defaults, for benchmarks that measure the limits themselves (hostile).
     */
    limits?: 'off' | 'default'
  } = {},
) {
  const cli = options.cli ?? DEFAULT_CLI
  const log = options.log ?? ((line: string) => process.stderr.write(`node | ${line}\n`))
  const dataDir = mkdtempSync(join(tmpdir(), 'hansa-bench-'))
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), cli, 'node', 'start', '--data-dir', dataDir, '--port', '0'],
    {
      env: {
        ...process.env,
        ...(options.limits === 'default'
          ? { HANSA_LOG_LEVEL: BENCH_NODE_ENV.HANSA_LOG_LEVEL }
          : BENCH_NODE_ENV),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }))
  })
  const tail: string[] = []
  const keep = (line: string) => {
    tail.push(line)
    if (tail.length > 40) tail.shift()
  }
  let inspectorUrl: string | undefined
  createInterface({ input: child.stderr! }).on('line', (line) => {
    inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1]
    keep(line)
    log(line)
  })
  return new Promise<SpawnedNode>((resolve, reject) => {
    const banner: string[] = []
    let ready = false
    const fail = (why: string) => {
      child.kill('SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
      reject(new Error(`${why}\n${tail.map((l) => `  ${l}`).join('\n')}`))
    }
    const timer = setTimeout(
      () =>
        fail(`the node did not print its URL within ${options.timeoutMs ?? 30_000} ms (${cli})`),
      options.timeoutMs ?? 30_000,
    )
    child.on('error', (err) => {
      clearTimeout(timer)
      fail(`cannot start ${cli}: ${err.message}`)
    })
    exited.then(({ code, signal }) => {
      if (ready) return
      clearTimeout(timer)
      fail(
        `the node exited before it was ready (code ${code}, signal ${signal}); run \`npm run build\` first?`,
      )
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (ready) return log(line) // log lines (JSON, warn and above) go to stderr, never stdout
      keep(line)
      banner.push(line)
      const b = parseBanner(banner)
      // The banner ends with "Press Ctrl-C to stop."; the URL alone is enough if it changes.
      if (b.url && (/Ctrl-C/.test(line) || banner.length >= 8)) {
        ready = true
        clearTimeout(timer)
        const node = running(
          child,
          dataDir,
          b.url,
          b.httpUrl ?? b.url.replace(/^ws/, 'http'),
          b.verifier,
          exited,
        )
        if (inspectorUrl !== undefined) node.inspectorUrl = inspectorUrl
        resolve(node)
      }
    })
  })
}

function running(
  child: ChildProcess,
  dataDir: string,
  url: string,
  httpUrl: string,
  verifier: string | undefined,
  exited: Promise<{ code: number | null; signal: string | null }>,
): SpawnedNode {
  const node: SpawnedNode = {
    url,
    httpUrl,
    pid: child.pid!,
    dataDir,
    async stop(opts = {}) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const result = await exited
      clearTimeout(killer)
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true })
      return result
    },
  }
  if (verifier !== undefined) node.verifier = verifier
  return node
}
