// The setup ceremony end to end, as three guardians would run it, across three separate node
// processes: setup codes, a draft refused with every problem named (nothing posted), the
// checked draft, signatures until the threshold seals the genesis, every node adopting it,
// the invite code, offline verification of the chain — then governance through the CLI: a
// guardian rotation proposed, listed with its diff, signed and adopted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKeyFile } from '@hansa/node'
import { decodeInviteCode, manifestHash, type SignedManifest } from '@hansa/protocol'
import { draftFederation, loadGuardian } from '@hansa/cli'
import { type NodeProcess, getJson, hansa, startNodeProcess, waitFor } from './helpers.js'

const root = mkdtempSync(join(tmpdir(), 'hansa-ceremony-'))
const dir = (...parts: string[]) => join(root, ...parts)

describe('the setup ceremony across separate node processes', () => {
  const nodes: NodeProcess[] = []
  const codes: Record<string, string> = {}
  const coordinators: Record<string, string> = {}
  let federationId = ''

  beforeAll(async () => {
    for (let i = 1; i <= 3; i++) nodes.push(await startNodeProcess(dir(`node-${i}`)))
    coordinators.hanseatic = createKeyFile(dir('coordinators', 'hanseatic.key')).pubkey
    coordinators.lubeck = createKeyFile(dir('coordinators', 'lubeck.key')).pubkey
  })

  afterAll(async () => {
    for (const node of nodes) await node.stop()
    rmSync(root, { recursive: true, force: true })
  })

  const draftArgs = () => [
    'federation',
    'draft',
    '--data-dir',
    dir('guardians', 'ana'),
    '--name',
    'Ceremony League',
    '--threshold',
    '2',
    '--guardians',
    '3',
    '--coordinator',
    `hanseatic=${coordinators.hanseatic}`,
    '--coordinator',
    `lubeck=${coordinators.lubeck}`,
    '--node',
    `hanseatic=${nodes[0]!.url}`,
    '--node',
    `hanseatic=${nodes[1]!.url}`,
    '--node',
    `lubeck=${nodes[2]!.url}`,
    ...nodes.flatMap((n) => ['--setup-token', `${n.url}=${n.setupToken}`]),
  ]

  it('each guardian makes a key and a setup code', async () => {
    for (const [i, name] of ['ana', 'bo', 'cy'].entries()) {
      const run = await hansa([
        'guardian',
        'init',
        '--data-dir',
        dir('guardians', name),
        '--name',
        name,
        '--node-url',
        nodes[i]!.url,
        '--json',
      ])
      expect(run.code, run.stderr).toBe(0)
      const result = JSON.parse(run.stdout) as { setupCode: string; created: boolean }
      expect(result.created).toBe(true)
      expect(result.setupCode).toMatch(/^hansasetup1/)
      codes[name] = result.setupCode
    }
  })

  it('refuses a faulty draft before anyone signs, naming every problem, and posts nothing', async () => {
    const run = await hansa([
      ...draftArgs(),
      '--guardian',
      codes.ana!,
      '--guardian',
      codes.bo!,
      '--guardian',
      `${codes.bo!.slice(0, -1)}${codes.bo!.endsWith('q') ? 'p' : 'q'}`,
      '--node',
      'hanseatic=ws://127.0.0.1:1',
      '--node',
      'nobody=ws://127.0.0.1:2',
    ])
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/\[setup-code\] guardian code 3: the checksum does not match/)
    expect(run.stdout).toMatch(/\[unreachable\] node ws:\/\/127\.0\.0\.1:1 does not answer/)
    expect(run.stdout).toMatch(/\[node\] node ws:\/\/127\.0\.0\.1:2: no coordinator "nobody"/)
    expect(run.stderr).toMatch(/nothing was posted/)
    // three codes were given as --guardians asks, one is broken: the count check passes, and
    // with one missing it names the count
    const short = await hansa([...draftArgs(), '--guardian', codes.ana!, '--guardian', codes.bo!])
    expect(short.code).toBe(1)
    expect(short.stdout).toMatch(/\[guardian-count\] expected 3 guardian setup codes/)
    for (const node of nodes) {
      expect((await getJson(`${node.httpUrl}/federation/proposals`)).proposals).toEqual([])
    }
  })

  it('checks the draft against the live nodes, posts it, and the guardians sign until it is sealed', async () => {
    const run = await hansa([
      ...draftArgs(),
      '--guardian',
      codes.ana!,
      '--guardian',
      codes.bo!,
      '--guardian',
      codes.cy!,
      '--json',
    ])
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const draft = JSON.parse(run.stdout) as {
      ok: boolean
      hash: string
      posted: { ok: boolean }[]
      summary: string[]
    }
    expect(draft.ok).toBe(true)
    expect(draft.posted).toHaveLength(3)
    expect(draft.posted.every((p) => p.ok)).toBe(true)
    expect(draft.summary.join('\n')).toMatch(/guardians \(2 of 3 must sign every change\)/)

    const ana = await hansa([
      'federation',
      'sign',
      '--data-dir',
      dir('guardians', 'ana'),
      '--yes',
      '--json',
    ])
    expect(ana.code, ana.stderr).toBe(0)
    expect(JSON.parse(ana.stdout)).toMatchObject({ signed: true, adopted: false, genesis: true })
    for (const node of nodes) {
      expect((await getJson(`${node.httpUrl}/federation`)).federationId).toBeNull()
    }

    const bo = await hansa(['federation', 'sign', '--data-dir', dir('guardians', 'bo'), '--yes'])
    expect(bo.code, bo.stderr).toBe(0)
    expect(bo.stdout).toMatch(/the federation is sealed/)
    const code = /\s(hansa1[02-9ac-hj-np-z]+)\s/.exec(bo.stdout)![1]!
    federationId = draft.hash
    expect(decodeInviteCode(code)).toEqual({
      federationId,
      urls: nodes.map((n) => n.url),
    })
    for (const [i, node] of nodes.entries()) {
      const info = await waitFor(
        () => getJson(`${node.httpUrl}/federation`),
        (x) => x.federationId === federationId,
      )
      expect(info).toMatchObject({
        status: 'member',
        version: 1,
        node: { coordinator: { alias: i < 2 ? 'hanseatic' : 'lubeck' } },
      })
    }
  })

  it('verifies the chain offline, and names the rule a tampered chain breaks', async () => {
    const chain = (await (
      await fetch(`${nodes[2]!.httpUrl}/federation/chain`)
    ).json()) as SignedManifest[]
    expect(manifestHash(chain[0]!.manifest)).toBe(federationId)
    writeFileSync(dir('chain.json'), JSON.stringify(chain))
    const ok = await hansa([
      'federation',
      'verify',
      '--federation',
      federationId,
      dir('chain.json'),
    ])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/verified head version 1/)

    const tampered = [{ ...chain[0]!, signatures: chain[0]!.signatures.slice(0, 1) }]
    writeFileSync(dir('tampered.json'), JSON.stringify(tampered))
    const bad = await hansa([
      'federation',
      'verify',
      '--federation',
      federationId,
      dir('tampered.json'),
    ])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(
      /HANSA_MANIFEST_THRESHOLD: Genesis manifest \(version 1\) has 1 valid signature/,
    )
  })

  it('a draft against nodes that already follow a federation is refused', async () => {
    const result = await draftFederation({
      name: 'Second League',
      threshold: 2,
      guardians: [codes.ana!, codes.bo!, codes.ana!],
      coordinators: [`hanseatic=${coordinators.hanseatic}`],
      nodes: [`hanseatic=${nodes[0]!.url}`],
      guardian: loadGuardian({ dataDir: dir('guardians', 'cy') }),
      now: Math.floor(Date.now() / 1000),
      checkOnly: true,
    })
    expect(result.ok).toBe(false)
    const rules = result.problems.map((p) => p.rule)
    expect(rules).toEqual(expect.arrayContaining(['duplicate', 'drafter', 'already-federated']))
    expect(result.problems.find((p) => p.rule === 'already-federated')!.message).toMatch(
      /already follows federation/,
    )
  })

  it('rotates a guardian through propose, proposals and sign', async () => {
    const dan = await hansa([
      'guardian',
      'init',
      '--data-dir',
      dir('guardians', 'dan'),
      '--name',
      'dan',
      '--node-url',
      nodes[2]!.url,
      '--json',
    ])
    const danCode = (JSON.parse(dan.stdout) as { setupCode: string }).setupCode
    const propose = await hansa([
      'federation',
      'propose',
      '--data-dir',
      dir('guardians', 'ana'),
      '--remove-guardian',
      'cy',
      '--add-guardian',
      danCode,
    ])
    expect(propose.code, propose.stderr).toBe(0)
    expect(propose.stdout).toMatch(/guardian removed: cy/)
    expect(propose.stdout).toMatch(/guardian added: dan/)

    const list = await hansa(['federation', 'proposals', '--node', nodes[1]!.url, '--json'])
    const proposals = (
      JSON.parse(list.stdout) as { proposals: { diff: string[]; status: string }[] }
    ).proposals
    expect(proposals).toHaveLength(1)
    expect(proposals[0]!.diff.join('\n')).toMatch(/guardian added: dan/)
    expect(proposals[0]!.status).toMatch(/1 of 2 from the current guardians \(ana\)/)

    // dan signs: he counts for the new set only, so the old set is still one short
    const byDan = await hansa([
      'federation',
      'sign',
      '--data-dir',
      dir('guardians', 'dan'),
      '--yes',
      '--json',
    ])
    expect(JSON.parse(byDan.stdout)).toMatchObject({ signed: true, adopted: false })
    const byBo = await hansa([
      'federation',
      'sign',
      '--data-dir',
      dir('guardians', 'bo'),
      '--yes',
      '--json',
    ])
    expect(JSON.parse(byBo.stdout)).toMatchObject({ signed: true, adopted: true, version: 2 })
    for (const node of nodes) {
      await waitFor(
        () => getJson(`${node.httpUrl}/federation`),
        (x) => x.version === 2,
      )
    }
    const show = await hansa(['federation', 'show', '--node', nodes[2]!.url, '--json'])
    const shown = JSON.parse(show.stdout) as { manifest: { guardians: { name: string }[] } }
    expect(shown.manifest.guardians.map((g) => g.name)).toEqual(['ana', 'bo', 'dan'])
  })
})
