// `hansa keygen`: a new key file (mode 0600); prints the public identities, never the secret.
import { resolve } from 'node:path'
import { createKeyFile } from '@hansa/node'
import { nip19 } from 'nostr-tools'

export type KeygenResult = { file: string; pubkey: string; npub: string; address: string }

export function keygen(out: string): KeygenResult {
  const file = resolve(out)
  const key = createKeyFile(file)
  return { file, pubkey: key.pubkey, npub: nip19.npubEncode(key.pubkey), address: key.address }
}

export default async function run(opts: { out: string; json?: boolean }): Promise<void> {
  const result = keygen(opts.out)
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return
  }
  process.stdout.write(
    `Wrote a new key to ${result.file} (readable only by you).\n` +
      `  pubkey  ${result.pubkey}\n  npub    ${result.npub}\n  address ${result.address}\n`,
  )
}
