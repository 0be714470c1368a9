// A throw-away PostgreSQL server for the benchmarks and the test run: initdb into a temporary
// folder, start `postgres` on a free loopback port (as the `postgres` user when run as root,
// which PostgreSQL refuses to run as), stop it and remove the folder at the end. By default
// durability is left at PostgreSQL's defaults (fsync on, synchronous_commit on), as SQLite
// runs with synchronous=FULL: both acknowledge only what survives power loss; the tests turn
// it off through `settings` and `initdbArgs`.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type PgServer = { url: string; version: string; stop(): Promise<void> }

/** Debian's server binaries (one folder per major version), else `pg_config --bindir`. */
export function serverBinaries(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions[0]) return join(root, versions[0], 'bin')
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim()
    if (existsSync(join(dir, 'postgres'))) return dir
  } catch {}
  return undefined
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export type PgServerOptions = {
  /** More initdb arguments (the tests add --no-sync). */
  initdbArgs?: string[]
  /** Prefix of the temporary folder's name. */
  prefix?: string
}

export async function startPgServer(
  settings: Record<string, string> = {},
  options: PgServerOptions = {},
): Promise<PgServer> {
  const bin = serverBinaries()
  if (!bin) throw new Error('no PostgreSQL server binaries (apt-get install postgresql)')
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'hansa-bench-pg-'))
  const asRoot = process.getuid?.() === 0
  if (asRoot)
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0)
  const run = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args]
  const data = join(dir, 'data')
  const [initCmd, initArgs] = run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    ...(options.initdbArgs ?? []),
  ])
  execFileSync(initCmd, initArgs, { stdio: 'ignore' })
  const port = await freePort()
  const extra = Object.entries({ max_connections: '200', ...settings }).flatMap(([k, v]) => [
    '-c',
    `${k}=${v}`,
  ])
  const [cmd, args] = run('postgres', [
    '-D',
    data,
    '-k',
    dir,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    ...extra,
  ])
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr!.on('data', (d) => {
    log += d
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start:\n${log}`)), 30_000)
    const check = () => {
      if (/ready to accept connections/.test(log)) {
        clearTimeout(timer)
        resolve()
      } else if (child.exitCode === null) setTimeout(check, 50)
    }
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`PostgreSQL exited with ${code}:\n${log}`))
    })
    check()
  })
  const version = execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    version,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
        try {
          process.kill(pid, 'SIGINT') // the postmaster itself: runuser may not pass it on
        } catch {}
        // A fast shutdown that does not end in 10 s is cut short.
        const timer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {}
          child.kill('SIGKILL')
        }, 10_000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
