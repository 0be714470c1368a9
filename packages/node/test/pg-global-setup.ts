// Starts one throw-away PostgreSQL server for the test run, so the PostgreSQL tests run
// wherever the server binaries are installed (Debian's `postgresql` package; CI installs it).
// HANSA_TEST_PG_URL, when set, names a server to use instead. Each test file then creates
// its own database on it (pg-test-db.ts). Without either, the PostgreSQL tests are skipped
// and this says so in one line (HANSA_TEST_PG=require, as CI sets it, makes that an error).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Where Debian puts the server binaries (one folder per major version); PATH is tried last. */
function serverBinaries(): string | undefined {
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

let child: ChildProcess | undefined
let dir: string | undefined

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.HANSA_TEST_PG_URL) return async () => {}
  const bin = serverBinaries()
  if (!bin) {
    if (process.env.HANSA_TEST_PG === 'require') {
      throw new Error('HANSA_TEST_PG=require, but no PostgreSQL server binaries were found')
    }
    console.log('PostgreSQL tests skipped: no server binaries found and HANSA_TEST_PG_URL unset')
    return async () => {}
  }
  dir = mkdtempSync(join(tmpdir(), 'hansa-pg-'))
  // PostgreSQL refuses to run as root: as root, run it as the `postgres` user.
  const asRoot = process.getuid?.() === 0
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? (['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] as const)
      : ([join(bin, cmd), args] as const)
  if (asRoot)
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0)
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
    '--no-sync',
  ])
  execFileSync(initCmd, initArgs, { stdio: 'ignore' })
  const port = await freePort()
  const [cmd, args] = run('postgres', [
    '-D',
    data,
    '-k',
    dir,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-c',
    'max_connections=300',
    '-c',
    'fsync=off',
    '-c',
    'shared_buffers=64MB',
  ])
  child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr!.on('data', (d) => {
    log += d
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start:\n${log}`)), 20_000)
    const check = () => {
      if (/ready to accept connections/.test(log)) {
        clearTimeout(timer)
        resolve()
      } else setTimeout(check, 50)
    }
    child!.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`PostgreSQL exited with ${code}:\n${log}`))
    })
    check()
  })
  process.env.HANSA_TEST_PG_URL = `postgres://postgres@127.0.0.1:${port}/postgres`
  return async () => {
    const server = child
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r))
      // Signal the postmaster itself (runuser does not always pass signals on): fast shutdown.
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
      try {
        process.kill(pid, 'SIGINT')
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {}
        server.kill('SIGKILL')
      }, 10_000)
      await exited
      clearTimeout(timer)
    }
    if (dir) rmSync(dir, { recursive: true, force: true })
  }
}
