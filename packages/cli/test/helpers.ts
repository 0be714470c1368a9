// Test helpers for the `hansa` command: run it as a user would (a separate process), and start
// nodes as separate `hansa node start` processes.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url))

export type Run = { code: number; stdout: string; stderr: string }

/** Runs `hansa ...args` to completion. */
export function hansa(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

export type NodeProcess = {
  child: ChildProcess
  url: string
  httpUrl: string
  stop(): Promise<number | null>
}

/** `hansa node start` on a free port (or `port`); resolves once it prints its URL. */
export async function startNodeProcess(
  dataDir: string,
  env: Record<string, string> = {},
  port = 0,
): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'node', 'start', '--data-dir', dataDir, '--port', String(port)],
    {
      env: {
        ...process.env,
        HANSA_LOG_LEVEL: 'warn',
        HANSA_VERIFY_THREADS: '1',
        HANSA_FEDERATION_SYNC_INTERVAL_SECONDS: '2',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      const m = /Hansa node running at (ws:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.stderr!.on('data', (d) => {
      out += d
    })
    child.once('exit', (code) => reject(new Error(`node exited with ${code}: ${out}`)))
  })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return {
    child,
    url,
    httpUrl: url.replace(/^ws/, 'http'),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}

export async function getJson(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url)).json()) as Record<string, unknown>
}

export async function waitFor<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await fn().catch(() => undefined as T)
    if (value !== undefined && ok(value)) return value
    if (Date.now() > until) throw new Error(`timed out; last value ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 150))
  }
}
