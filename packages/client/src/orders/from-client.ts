// The joint book of a HansaClient: the coordinators of the manifest head the client verified
// when it joined (and kept up to date with refresh), each enabled or not by the user's trust
// list; the nodes she added by hand are read too (their orders still need a member's
// signature to count).
import type { ClientStore } from '../client-store.js'
import { NotJoinedError } from '../errors.js'
import { coordinatorEnabled } from '../trust.js'
import {
  type BookCoordinator,
  type TrustedCoordinators,
  coordinatorsFromManifest,
} from './types.js'

/** The trusted coordinators of a client's store (throws NotJoinedError before a join). */
export function trustedCoordinatorsOf(store: ClientStore): TrustedCoordinators {
  return {
    coordinators(): BookCoordinator[] {
      const state = store.load()
      const head = state.federation?.head
      if (head == null) throw new NotJoinedError()
      const manifest = head.signed.manifest
      const disabled = manifest.coordinators
        .filter((c) => !coordinatorEnabled(state.trust, c.pubkey))
        .map((c) => c.pubkey)
      return coordinatorsFromManifest(manifest, { disabled })
    },
  }
}

/** The URLs of the nodes the user added to her trust list by hand. */
export const customRelaysOf = (store: ClientStore) => (): string[] =>
  store.load().trust.customNodes.map((n) => n.url)
