// HansaClient's errors: HansaError's short message, details and cause, and a stable code
// (STYLE.md, viem's errors/base.ts). Messages say what to do; tests pin them.
import { HansaError } from '@hansa/protocol'

export const CLIENT_ERROR_CODES = [
  'HANSA_NOT_JOINED',
  'HANSA_JOIN_FAILED',
  'HANSA_NO_NODE',
  'HANSA_ALL_NODES_FAILED',
  'HANSA_NO_KEY',
  'HANSA_SIGNER_REFUSED',
  'HANSA_SIGNER_UNSUPPORTED',
  'HANSA_SIGNER_NEEDS_SECRET',
  'HANSA_EVM_NO_WALLET',
  'HANSA_EVM_WRONG_CHAIN',
  'HANSA_EVM_FUNDS',
  'HANSA_EVM_REJECTED',
  'HANSA_INBOX_NO_RELAYS',
  'HANSA_CLIENT_STORE',
  'HANSA_CHEQUEBOOK_MISSING',
] as const
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number]

/** No federation joined yet: join an invite code first. */
export class NotJoinedError extends HansaError {
  override name = 'NotJoinedError'
  constructor() {
    super('HANSA_NOT_JOINED', 'this client has joined no federation yet', {
      details: 'Join one with an invite code first (hansa join hansa1…).',
    })
  }
}

/** No node given by the invite code answered with a chain that verifies. */
export class JoinFailedError extends HansaError {
  override name = 'JoinFailedError'
  constructor(
    readonly attempts: ReadonlyArray<{ url: string; error: string }>,
    cause?: unknown,
  ) {
    super('HANSA_JOIN_FAILED', 'no node of the invite code gave a manifest chain that verifies', {
      details: attempts.map((a) => `${a.url}: ${a.error}`).join('; '),
      cause,
    })
  }
}

/** Nothing to choose from for a service. */
export class NoNodeError extends HansaError {
  override name = 'NoNodeError'
  constructor(
    readonly service: string,
    counts: { verified: number; disabled: number; rejected: number },
  ) {
    super('HANSA_NO_NODE', `no trusted node offers ${service}`, {
      details: `${counts.verified} node(s) verified, ${counts.disabled} disabled by your trust list, ${counts.rejected} rejected. See \`hansa nodes\` for the reasons; enable a coordinator or add a node of your own (hansa trust).`,
    })
  }
}

export type Attempt = { url: string; error: string }

/** Every node tried for an operation failed. */
export class AllNodesFailedError extends HansaError {
  override name = 'AllNodesFailedError'
  constructor(
    what: string,
    readonly attempts: readonly Attempt[],
  ) {
    super('HANSA_ALL_NODES_FAILED', `${what}: every node tried failed`, {
      details: attempts.map((a) => `${a.url}: ${a.error}`).join('; ') || 'no node to try',
    })
  }
}

/** The operation signs as the user, and the client was created without a secret key. */
export class NoKeyError extends HansaError {
  override name = 'NoKeyError'
  constructor(what: string) {
    super('HANSA_NO_KEY', `${what} needs the user's key`, {
      details:
        'Create the client with secretKey (the CLI reads --key, default ~/.config/hansa/user.key).',
    })
  }
}

/** The recipient has published no inbox relay list (kind 10050) where we looked. */
export class NoInboxRelaysError extends HansaError {
  override name = 'NoInboxRelaysError'
  constructor(recipient: string, asked: readonly string[]) {
    super(
      'HANSA_INBOX_NO_RELAYS',
      `${recipient.slice(0, 12)}… has published no inbox relay list (kind 10050)`,
      {
        details: `Asked ${asked.join(', ') || 'no node'}. The recipient subscribes to an inbox node first (hansa subscribe), which publishes the list.`,
      },
    )
  }
}

/** The client's state file cannot be read or written. */
export class ClientStoreError extends HansaError {
  override name = 'ClientStoreError'
  constructor(message: string, cause?: unknown) {
    super('HANSA_CLIENT_STORE', message, cause === undefined ? {} : { cause })
  }
}

/**
 * A node meters a service in SWAP's hard mode (cheques cashed on chain) and the user has no
 * chequebook from the factory its terms name: she deploys one first (hansa chequebook deploy).
 */
export class ChequebookMissingError extends HansaError {
  override name = 'ChequebookMissingError'
  constructor(
    readonly node: string,
    readonly chainId: number,
    readonly factory: string,
    readonly issuer: string,
  ) {
    super(
      'HANSA_CHEQUEBOOK_MISSING',
      `${node} takes cheques only from a chequebook on chain ${chainId} (hard mode), and this client knows none of ${issuer}: deploy one from an Ethereum wallet (the web app’s Subscribe… dialog on that node), or run hansa chequebook deploy --node ${node} --amount <base units> --rpc-url <chain>`,
      {
        details: `The chequebook must come from factory ${factory}; once deployed it is remembered in the client's config and pays every metered node of that factory.`,
      },
    )
  }
}

/** The signer cannot do what an act needs (signer.ts): it refused, lacks NIP-44, or holds no secret here. */
export class SignerError extends HansaError {
  override name = 'SignerError'
  constructor(
    code: 'HANSA_SIGNER_REFUSED' | 'HANSA_SIGNER_UNSUPPORTED' | 'HANSA_SIGNER_NEEDS_SECRET',
    message: string,
    details: string,
  ) {
    super(code, message, { details })
  }
}
