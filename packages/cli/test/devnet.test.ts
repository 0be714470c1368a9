// `hansa devnet`: one command gives a working federation (3 guardians, threshold 2; 2
// coordinators; 3 nodes), prints the invite code and where every node lives, and stops every
// node cleanly on Ctrl-C (SIGINT). It runs a local chain (anvil): the manifest is anchored in
// the registry, node-2 meters its inbox in hard mode and node-3 sells it on chain.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeInviteCode } from '@hansa/protocol'
import { CLI, getJson } from './helpers.js'

const root = mkdtempSync(join(tmpdir(), 'hansa-devnet-'))

describe('hansa devnet', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('starts a sealed federation of three nodes and stops them all on SIGINT', async () => {
    const child = spawn(process.execPath, [CLI, 'devnet', '--data-dir', root, '--json'], {
      env: { ...process.env, HANSA_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    const info = await new Promise<{
      federationId: string
      inviteCode: string
      nodes: { name: string; url: string; dataDir: string; coordinator: string }[]
      guardians: { name: string }[]
      threshold: number
      chain: { rpcUrl: string; registry: string; anchored: { version: number } | null }
    }>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d
        try {
          resolve(JSON.parse(stdout))
        } catch {
          // not complete yet
        }
      })
      exited.then((code) => reject(new Error(`devnet exited (${code}): ${stderr}`)))
    })
    expect(info.threshold).toBe(2)
    expect(info.guardians.map((g) => g.name)).toEqual(['ana', 'bo', 'cy'])
    expect(info.nodes.map((n) => n.coordinator)).toEqual(['hanseatic', 'hanseatic', 'lubeck'])
    expect(decodeInviteCode(info.inviteCode)).toEqual({
      federationId: info.federationId,
      urls: info.nodes.map((n) => n.url),
    })
    for (const node of info.nodes) {
      expect(existsSync(join(node.dataDir, 'federation.sqlite'))).toBe(true)
      const status = await getJson(`${node.url.replace('ws', 'http')}/federation`)
      expect(status).toMatchObject({
        federationId: info.federationId,
        status: 'member',
        version: 1,
      })
      const nip11 = (await (
        await fetch(node.url.replace('ws', 'http'), {
          headers: { accept: 'application/nostr+json' },
        })
      ).json()) as { hansa: { federationId: string; manifestVersion: number } }
      expect(nip11.hansa).toMatchObject({ federationId: info.federationId, manifestVersion: 1 })
    }

    // the chain: manifest anchored; node-2 metered in hard mode and node-3 on subscription, on chain
    expect(info.chain.anchored?.version).toBe(1)
    const terms = async (name: string) =>
      (
        (await getJson(
          `${info.nodes.find((n) => n.name === name)!.url.replace('ws', 'http')}/terms`,
        )) as {
          terms: { services: { inbox: { access: string } }; settlement: { evm?: object } }
        }
      ).terms
    expect((await terms('node-2')).services.inbox).toMatchObject({
      access: 'metered',
      swap: 'hard',
    })
    expect((await terms('node-3')).services.inbox.access).toBe('subscription')
    expect((await terms('node-3')).settlement.evm).toMatchObject({ registry: expect.any(String) })

    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(stderr).toMatch(/devnet stopped/)
    for (const node of info.nodes) {
      await expect(fetch(`${node.url.replace('ws', 'http')}/health`)).rejects.toThrow()
    }
  })
})
