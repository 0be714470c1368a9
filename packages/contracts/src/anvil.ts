// A real local chain for tests and `hansa devnet`: anvil (Foundry) from the npm package
// @foundry-rs/anvil-linux-amd64, started on 127.0.0.1 on a port the OS picks and stopped by
// whoever started it. Nothing else in Hansa starts a chain, and nothing mocks one.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export type AnvilOptions = {
  chainId?: number
  /** Loads the chain from this file if it exists and writes it back on exit (devnet resume). */
  statePath?: string
  /** A fixed port (a chain restarted where its users expect it); default: one the OS picks. */
  port?: number
  /** Seconds between blocks; by default every transaction is mined at once. */
  blockTime?: number
  /** How long to wait for anvil to listen, in ms (default 20 s). */
  startTimeoutMs?: number
}

export type Anvil = {
  rpcUrl: string
  port: number
  chainId: number
  process: ChildProcess
  stop(): Promise<void>
}

/** The anvil binary shipped in @foundry-rs/anvil-linux-amd64, or HANSA_ANVIL_BIN. */
export function anvilBinary(): string {
  const fromEnv = process.env.HANSA_ANVIL_BIN
  if (fromEnv) return fromEnv
  const require = createRequire(import.meta.url)
  let pkg: string
  try {
    pkg = require.resolve('@foundry-rs/anvil-linux-amd64/package.json')
  } catch {
    throw new Error(
      'anvil is not installed: @foundry-rs/anvil-linux-amd64 ships it for Linux x64 (npm install); elsewhere set HANSA_ANVIL_BIN to an anvil binary',
    )
  }
  const bin = join(dirname(pkg), 'bin', 'anvil')
  if (!existsSync(bin)) throw new Error(`anvil binary missing at ${bin}; reinstall the package`)
  return bin
}

export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 31337
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--chain-id',
    String(chainId),
  ]
  if (options.statePath) args.push('--state', options.statePath)
  if (options.blockTime) args.push('--block-time', String(options.blockTime))
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`anvil did not start within ${options.startTimeoutMs ?? 20_000} ms`))
    }, options.startTimeoutMs ?? 20_000)
    const onData = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-4096)
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        child.stdout?.resume() // keep draining so anvil never blocks on a full pipe
        resolve(Number(m[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (c: Buffer) => {
      out = (out + c.toString()).slice(-4096)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`anvil exited (${code}) before listening: ${out.trim().slice(-500)}`))
    })
  })
  child.stderr?.resume()
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    chainId,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGINT') // SIGINT: anvil writes --state before it exits
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}
