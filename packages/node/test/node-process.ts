// `hansa node start` as a child process, on a PostgreSQL database (the two-process tests).
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url))

export type Proc = { child: ChildProcess; url: string; pubkey: string }

/** Starts a node process on `storageUrl`; `env` adds settings (HANSA_…). */
export function startNodeProcess(
  dataDir: string,
  storageUrl: string,
  env: Record<string, string> = {},
): Promise<Proc> {
  const child = spawn(
    process.execPath,
    [CLI, 'node', 'start', '--data-dir', dataDir, '--port', '0'],
    {
      env: {
        ...process.env,
        HANSA_LOG_LEVEL: 'error',
        HANSA_STORAGE_BACKEND: 'postgres',
        HANSA_STORAGE_URL: storageUrl,
        HANSA_VERIFY_THREADS: '1',
        HANSA_STORAGE_READER_THREADS: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d
      const url = /Hansa node running at (ws:\/\/\S+)/.exec(out)?.[1]
      const pubkey = /pubkey\s+([0-9a-f]{64})/.exec(out)?.[1]
      if (url && pubkey && /Ctrl-C/.test(out)) resolve({ child, url, pubkey })
    })
    child.stderr!.on('data', (d) => {
      out += d
    })
    child.once('exit', (code) => reject(new Error(`node exited with ${code}: ${out}`)))
  })
}

export const stopNodeProcess = (p: Proc | undefined) =>
  new Promise<void>((resolve) => {
    if (!p || p.child.exitCode !== null) return resolve()
    p.child.once('exit', () => resolve())
    p.child.kill('SIGTERM')
  })
