// Which federation a standalone node may adopt: the one its invite code names, or the genesis
// its coordinator authorised (a draft or chain sent with the setup token, or NIP-98 by the node
// key or an admin key; kept in federation.sqlite across restarts). With neither, the node
// adopts nothing: a stranger's genesis is refused HANSA_FEDERATION_UNINVITED. An invite code's
// pin holds against everyone; an authorised pin may be moved by another authorised request.
import { FederationRequestError } from './errors.js'
import type { FederationStore } from './manifest-store.js'

const KEY = 'authorised_genesis'

export class GenesisPin {
  private authorised: string | null

  constructor(
    /** The federation id the invite code names, if any. */
    readonly invite: string | null,
    private readonly store: FederationStore,
  ) {
    this.authorised = store.meta(KEY)
  }

  /** The federation id this node may adopt, or null: none yet. */
  get id(): string | null {
    return this.invite ?? this.authorised
  }

  /** Whether an authorised request may pin another genesis (no invite code holds it). */
  get movable(): boolean {
    return this.invite === null
  }

  /** Pins the genesis an authorised request named. */
  pin(hash: string): void {
    if (this.invite !== null || this.authorised === hash) return
    this.authorised = hash
    this.store.setMeta(KEY, hash)
  }

  uninvited(what: string): FederationRequestError {
    return new FederationRequestError(
      'HANSA_FEDERATION_UNINVITED',
      403,
      `${what} refused: this node joins a federation only when its coordinator asks (an invite code or chain file in its configuration, NIP-98 by the node key or an admin key, or the setup token the node printed at start)`,
    )
  }
}
