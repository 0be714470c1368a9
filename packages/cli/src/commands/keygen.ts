// `hansa keygen`: a new key file (mode 0600); prints the public identities, never the secret.
// Without --out the key goes to the user's config folder ($XDG_CONFIG_HOME/hansa, else
// ~/.config/hansa), not the current folder: a key file written into a checkout can end up
// committed.
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { createKeyFile } from '@hansa/node'
import { nip19 } from 'nostr-tools'

export type KeygenResult = { file: string; pubkey: string; npub: string; address: string }

/** Where `hansa keygen` writes without --out. */
export function defaultKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config')
  return join(base, 'hansa', 'hansa.key')
}

export function keygen(out: string = defaultKeyFile()): KeygenResult {
  const file = resolve(out)
  const key = createKeyFile(file)
  return { file, pubkey: key.pubkey, npub: nip19.npubEncode(key.pubkey), address: key.address }
}

export default async function run(opts: { out?: string; json?: boolean }): Promise<void> {
  const result = keygen(opts.out ?? defaultKeyFile())
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return
  }
  process.stdout.write(
    `Wrote a new key to ${result.file} (readable only by you).\n` +
      `  pubkey  ${result.pubkey}\n  npub    ${result.npub}\n  address ${result.address}\n`,
  )
}
