// A guardian's signature on a proposal (or a genesis draft), posted to several nodes at once:
// with the proposal itself, so a node that has not seen it learns it, or — where the signer
// may sign but not propose (a guardian the proposal adds) — alone. What `hansa federation
// sign` and the web app's guardian screen both do.
import { type Manifest, type ManifestSignature, manifestHash, signManifest } from '@hansa/protocol'
import { NodeRequestError, postProposal, postSignature } from './federation-api.js'

export type PostedSignature = { url: string; ok: boolean; adopted?: boolean; error?: string }

export async function postGuardianSignature(
  urls: readonly string[],
  manifest: Manifest,
  secretKey: Uint8Array,
  options: {
    timeoutMs?: number
    signature?: ManifestSignature
    /** A standalone node's one-time setup token, by node URL, for posting a genesis draft. */
    setupTokens?: Readonly<Record<string, string>>
  } = {},
): Promise<{
  hash: string
  signature: ManifestSignature
  posted: PostedSignature[]
  adopted: boolean
}> {
  const hash = manifestHash(manifest)
  const signature = options.signature ?? signManifest(manifest, secretKey)
  const api = { timeoutMs: options.timeoutMs ?? 10_000 }
  const posted = await Promise.all(
    [...new Set(urls)].map(async (url): Promise<PostedSignature> => {
      try {
        const setupToken = options.setupTokens?.[url.replace(/\/+$/, '')]
        const r = await postProposal(
          url,
          { manifest, signatures: [signature] },
          secretKey,
          setupToken === undefined ? api : { ...api, setupToken },
        )
        return { url, ok: true, adopted: r.adopted }
      } catch (error) {
        // Not a guardian there yet, or a standalone node that takes a genesis only with its
        // setup token: the draft may already be there, and a signature on it needs neither.
        const code = error instanceof NodeRequestError ? error.code : undefined
        if (code === 'HANSA_NOT_GUARDIAN' || code === 'HANSA_FEDERATION_UNINVITED') {
          try {
            const r = await postSignature(url, hash, signature, secretKey, api)
            return { url, ok: true, adopted: r.adopted }
          } catch (inner) {
            const shown = code === 'HANSA_FEDERATION_UNINVITED' ? error : inner
            return { url, ok: false, error: (shown as Error).message }
          }
        }
        return { url, ok: false, error: (error as Error).message }
      }
    }),
  )
  return { hash, signature, posted, adopted: posted.some((x) => x.adopted) }
}
