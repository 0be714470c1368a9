// client.chequebook.{remembered, status, deploy, deposit}: the user's chequebook for nodes that meter in
// SWAP's hard mode (cheques cashed on chain), paid for from a wallet (chequebook-eip1193.ts)
// and remembered in the client's store, where payerFor finds it to pay those nodes — the
// same record `hansa chequebook deploy` keeps. The chain, token and factory come from the
// node's signed terms; the issuer is the address of the user's own key, which signs the
// cheques (a NIP-07 signer cannot: refused before anything is sent).
import { type Terms, ethereumAddress } from '@hansa/protocol'
import { getTerms } from '../billing-api.js'
import type {
  ChequebookPlace,
  ChequebookProgress,
  ChequebookState,
  ChequebookWallet,
} from '../chequebook-eip1193.js'
import type { HansaClient } from '../client.js'
import { requireSigner } from '../client.js'
import { chequebookFor, rememberChequebook } from '../client-store.js'
import { requireSecret } from '../signer.js'

export type ChequebookParams = { node: string; wallet: ChequebookWallet }

export type ChequebookStatus = {
  node: string
  place: ChequebookPlace
  /** The node's payout address (what its cheques name). */
  beneficiary: string
  /** The Ethereum address of the user's key: the issuer her cheques are signed as. */
  issuer: string
  /** The chequebook remembered for this chain, factory and issuer, or null. */
  chequebook: string | null
  /** As the chain has it (null without a chequebook). */
  state: ChequebookState | null
  /** The wallet account and its token balance (what a deposit can draw on). */
  wallet: { account: string; tokens: bigint }
}

/** Where the node's chequebooks live, from its verified terms; an error when it takes none. */
async function placeOf(client: HansaClient, node: string) {
  let terms: Terms | null = client.runtime.reports.find((r) => r.url === node)?.terms ?? null
  terms ??= (await getTerms(node, undefined, { timeoutMs: client.env.requestMs })).terms
  const evm = terms.settlement.evm
  const hard = Object.values(terms.services).some(
    (t) => t.access === 'metered' && t.swap === 'hard',
  )
  if (!evm?.chequebookFactory || !hard) {
    throw new Error(
      `${node} takes no cheques on chain (no metered service in hard mode): it needs no chequebook`,
    )
  }
  const place: ChequebookPlace = {
    chainId: terms.settlement.chainId,
    token: evm.token,
    factory: evm.chequebookFactory,
  }
  return { place, beneficiary: terms.settlement.beneficiary }
}

function issuerOf(client: HansaClient): string {
  const signer = requireSigner(client, 'a chequebook')
  // The cheques are EIP-712, signed by her key: a signer that keeps it elsewhere cannot.
  return ethereumAddress(requireSecret(signer, 'paying cheque-metered nodes from a chequebook'))
}

const where = (place: ChequebookPlace, issuer: string) => ({
  chainId: place.chainId,
  factory: place.factory,
  issuer,
})

/**
 * The chequebook remembered for the node's chain and factory and her key, and that key's
 * address (the issuer): known without asking the wallet.
 */
export async function rememberedChequebook(
  client: HansaClient,
  params: { node: string },
): Promise<{ chequebook: string | null; issuer: string; place: ChequebookPlace }> {
  const { place } = await placeOf(client, params.node)
  const issuer = issuerOf(client)
  return { chequebook: chequebookFor(client.store, where(place, issuer)), issuer, place }
}

export async function chequebookStatus(
  client: HansaClient,
  params: ChequebookParams,
): Promise<ChequebookStatus> {
  const { place, beneficiary } = await placeOf(client, params.node)
  const issuer = issuerOf(client)
  const chequebook = chequebookFor(client.store, where(place, issuer))
  const [state, account, tokens] = await Promise.all([
    chequebook === null ? null : params.wallet.status({ place, chequebook, beneficiary }),
    params.wallet.account(),
    params.wallet.tokenBalance(place),
  ])
  return {
    node: params.node,
    place,
    beneficiary,
    issuer,
    chequebook,
    state,
    wallet: { account, tokens },
  }
}

/**
 * Deploys her chequebook from the wallet and funds it with `amount`; remembered as soon as it
 * exists (a rejected deposit leaves a chequebook to top up, not a lost one).
 */
export async function deployChequebook(
  client: HansaClient,
  params: ChequebookParams & { amount: bigint; onProgress?: (p: ChequebookProgress) => void },
): Promise<ChequebookStatus> {
  const { place } = await placeOf(client, params.node)
  const issuer = issuerOf(client)
  await params.wallet.deploy({
    place,
    issuer,
    amount: params.amount,
    ...(params.onProgress ? { onProgress: params.onProgress } : {}),
    onDeployed: (chequebook) => {
      rememberChequebook(client.store, {
        ...where(place, issuer),
        chequebook,
        deployedAt: client.env.now(),
      })
      // Payers made before pay from the chequebook they were made with: make them again.
      client.runtime.payers.clear()
    },
  })
  return chequebookStatus(client, params)
}

/** Tops her remembered chequebook up with `amount` from the wallet. */
export async function depositChequebook(
  client: HansaClient,
  params: ChequebookParams & { amount: bigint; onProgress?: (p: ChequebookProgress) => void },
): Promise<ChequebookStatus> {
  const { place } = await placeOf(client, params.node)
  const chequebook = chequebookFor(client.store, where(place, issuerOf(client)))
  if (chequebook === null) {
    throw new Error(`no chequebook for ${params.node} yet: deploy one first`)
  }
  await params.wallet.deposit({
    place,
    chequebook,
    amount: params.amount,
    ...(params.onProgress ? { onProgress: params.onProgress } : {}),
  })
  return chequebookStatus(client, params)
}
