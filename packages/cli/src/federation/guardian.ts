// A guardian's folder: `guardian.key` (mode 0600) and `guardian.json` (name and node URL, so
// later commands know which node to talk to), written by `hansa guardian init`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type KeyPair, createKeyFile, readKeyFile } from '@hansa/node'
import { HansaError, encodeSetupCode } from '@hansa/protocol'

export const DEFAULT_GUARDIAN_DIR = './hansa-guardian'

export type GuardianInitParams = { dataDir?: string; name: string; nodeUrl: string }

export type GuardianInitResult = {
  name: string
  pubkey: string
  nodeUrl: string
  keyFile: string
  /** false when the folder already held a key (init is repeatable: it prints the code again). */
  created: boolean
  setupCode: string
}

/** `hansa guardian init`: a key (kept if one exists) and the setup code for the ceremony. */
export function guardianInit(params: GuardianInitParams): GuardianInitResult {
  const dir = resolve(params.dataDir ?? DEFAULT_GUARDIAN_DIR)
  const keyFile = join(dir, 'guardian.key')
  const created = !existsSync(keyFile)
  const key = created ? createKeyFile(keyFile) : readKeyFile(keyFile)
  const setupCode = encodeSetupCode({ name: params.name, url: params.nodeUrl }, key.secretKey)
  writeFileSync(
    join(dir, 'guardian.json'),
    `${JSON.stringify({ name: params.name, nodeUrl: params.nodeUrl, pubkey: key.pubkey }, null, 2)}\n`,
  )
  writeFileSync(join(dir, 'setup-code.txt'), `${setupCode}\n`)
  return {
    name: params.name,
    pubkey: key.pubkey,
    nodeUrl: params.nodeUrl,
    keyFile,
    created,
    setupCode,
  }
}

export type GuardianFlags = { dataDir?: string; key?: string; node?: string }

export type Guardian = { key: KeyPair; keyFile: string; name?: string; nodeUrl?: string }

/** The guardian key (--key FILE, else <data-dir>/guardian.key) and its saved node URL. */
export function loadGuardian(flags: GuardianFlags): Guardian {
  const dir = resolve(flags.dataDir ?? DEFAULT_GUARDIAN_DIR)
  const keyFile = resolve(flags.key ?? join(dir, 'guardian.key'))
  if (!existsSync(keyFile)) {
    throw new HansaError('HANSA_KEY_MISSING', `no guardian key at ${keyFile}`, {
      details:
        'Create one with `hansa guardian init --name NAME --node-url ws://…`, or point --key at your key file.',
    })
  }
  const key = readKeyFile(keyFile)
  const saved = join(dir, 'guardian.json')
  let info: { name?: string; nodeUrl?: string } = {}
  if (flags.key === undefined && existsSync(saved)) {
    info = JSON.parse(readFileSync(saved, 'utf8')) as typeof info
  }
  return {
    key,
    keyFile,
    ...(info.name === undefined ? {} : { name: info.name }),
    ...(info.nodeUrl === undefined ? {} : { nodeUrl: info.nodeUrl }),
  }
}

/** The node to talk to: --node, else the guardian's own node from guardian.json. */
export function nodeUrlOf(flags: { node?: string }, guardian?: Guardian): string {
  const url = flags.node ?? guardian?.nodeUrl
  if (url === undefined) {
    throw new HansaError('HANSA_NODE_MISSING', 'which node? pass --node ws://host:port', {
      details: 'Guardians set up with `hansa guardian init` default to their own node.',
    })
  }
  return url
}
