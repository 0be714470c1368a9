// The catalogue of Hansa's error codes: every HANSA_* code any part of Hansa gives — the
// protocol's rules, the node's API refusals, the client's and the CLI's failures — with the
// HTTP status a node answers it with (where a node sends it) and what it means. HansaError
// takes only these codes, so a new code is added here first; docs/errors.md is generated from
// this table (errorsMarkdown), and a test keeps the two in step.

type Entry = {
  /** The HTTP status a node's API answers with; null: never sent over HTTP by a node. */
  status: number | null
  /** Who gives it. */
  from: 'protocol' | 'node' | 'client' | 'cli'
  /** What it means, and what to do. */
  summary: string
}

export const HANSA_ERRORS = {
  // ---- protocol: canonical JSON, manifests, invite and setup codes ----
  HANSA_CANONICAL_JSON: {
    status: 400,
    from: 'protocol',
    summary: 'A value RFC 8785 cannot encode (NaN, Infinity, a lone surrogate).',
  },
  HANSA_MANIFEST_INVALID: {
    status: 400,
    from: 'protocol',
    summary: 'A manifest does not have the shape the format requires; the message names the field.',
  },
  HANSA_MANIFEST_GENESIS: {
    status: 409,
    from: 'protocol',
    summary:
      "A chain's first manifest is not a valid genesis, or does not hash to the federation id.",
  },
  HANSA_MANIFEST_VERSION: {
    status: 409,
    from: 'protocol',
    summary: 'A manifest is not exactly one version after the previous one.',
  },
  HANSA_MANIFEST_PREVIOUS: {
    status: 409,
    from: 'protocol',
    summary: "A manifest's `previous` is not the hash of the manifest before it.",
  },
  HANSA_MANIFEST_THRESHOLD: {
    status: 422,
    from: 'protocol',
    summary: 'Too few valid guardian signatures, by the old or the new guardian set.',
  },
  HANSA_MANIFEST_EXPIRED: {
    status: 422,
    from: 'protocol',
    summary: "The chain's head has expired (a freeze attack serves an old head).",
  },
  HANSA_MANIFEST_ROLLBACK: {
    status: 409,
    from: 'protocol',
    summary: 'A manifest older than the one already verified was offered.',
  },
  HANSA_MANIFEST_FORK: {
    status: 409,
    from: 'protocol',
    summary: 'Two different manifests at the same version: both are reported.',
  },
  HANSA_MANIFEST_EDIT: {
    status: 400,
    from: 'protocol',
    summary:
      'A proposal edit cannot be applied to the manifest (an unknown coordinator, a duplicate).',
  },
  HANSA_MANIFEST_SIGNING_KEY: {
    status: null,
    from: 'protocol',
    summary: 'The key asked to sign a manifest is not one of its guardians.',
  },
  HANSA_INVITE_INVALID: {
    status: 400,
    from: 'protocol',
    summary: 'An invite code does not decode (bech32m, hansa prefix, federation id, URLs).',
  },
  HANSA_SETUP_CODE_INVALID: {
    status: 400,
    from: 'protocol',
    summary: "A guardian's setup code does not decode.",
  },
  HANSA_HTTP_AUTH: {
    status: 401,
    from: 'protocol',
    summary: 'A NIP-98 Authorization header is missing or wrong; the message names the rule.',
  },
  // ---- protocol: terms and cheques ----
  HANSA_TERMS_INVALID: {
    status: null,
    from: 'protocol',
    summary: "A node's terms do not have the shape docs/paid-access.md gives them.",
  },
  HANSA_TERMS_SIGNATURE: {
    status: null,
    from: 'protocol',
    summary: "The terms' signature is not the node key's.",
  },
  HANSA_CHEQUE_MALFORMED: {
    status: 400,
    from: 'protocol',
    summary: 'A cheque is not well formed EIP-712 typed data.',
  },
  HANSA_CHEQUE_CHAIN: {
    status: 400,
    from: 'protocol',
    summary: "A cheque names another chain id than the node's.",
  },
  HANSA_CHEQUE_BENEFICIARY: {
    status: 400,
    from: 'protocol',
    summary: "A cheque's beneficiary is not this node's address.",
  },
  HANSA_CHEQUE_SIGNER: {
    status: 403,
    from: 'protocol',
    summary: "A cheque is not signed by the payer's key.",
  },
  HANSA_CHEQUE_REPLAY: {
    status: 409,
    from: 'protocol',
    summary: 'A cheque already credited was sent again.',
  },
  HANSA_CHEQUE_AHEAD: {
    status: 400,
    from: 'node',
    summary:
      "The cheque would pay further ahead than the node's cap on the ledger rail (billing.metered.maxCreditAhead); the message names the highest cumulative payout it takes.",
  },
  HANSA_CHEQUE_NOT_INCREASING: {
    status: 409,
    from: 'protocol',
    summary: "A cheque's cumulative payout is not above the last one credited.",
  },
  // ---- protocol: the order state machine ----
  HANSA_ORDER_NOT_PENDING: {
    status: 409,
    from: 'protocol',
    summary: 'The order is no longer pending (another taker was first, or it closed).',
  },
  HANSA_ORDER_EXPIRED: { status: 410, from: 'protocol', summary: 'The order has expired.' },
  HANSA_ORDER_NOT_MAKER: {
    status: 403,
    from: 'protocol',
    summary: 'Only the maker may do this to the order (cancel).',
  },
  HANSA_ORDER_OWN: { status: 409, from: 'protocol', summary: 'A maker cannot take her own order.' },
  HANSA_ORDER_NOT_IN_PROGRESS: {
    status: 409,
    from: 'protocol',
    summary: 'The order is not in progress, so it cannot be completed.',
  },
  HANSA_ORDER_NOT_SELLER: {
    status: 403,
    from: 'protocol',
    summary: 'Only the seller of bitcoin may confirm the trade.',
  },
  HANSA_ORDER_NOT_DUE: {
    status: 409,
    from: 'protocol',
    summary: 'The order is not due for what was asked yet.',
  },
  // ---- node: configuration, keys, the verify stage, services ----
  HANSA_STORAGE_UNREACHABLE: {
    status: null,
    from: 'node',
    summary:
      "The PostgreSQL database named by storage.url cannot be opened; the details give the driver's reason (address, password, database name).",
  },
  HANSA_STORAGE_SCHEMA_NEWER: {
    status: null,
    from: 'node',
    summary:
      'The PostgreSQL database was migrated by a newer Hansa; run that version, or restore a backup taken before the upgrade. Nothing was changed.',
  },
  HANSA_STORAGE_MIGRATION: {
    status: null,
    from: 'node',
    summary: "A PostgreSQL schema migration failed; the details give the database's error.",
  },
  HANSA_STORAGE_TARGET: {
    status: null,
    from: 'cli',
    summary: 'hansa storage migrate needs --to postgres and a URL (--url or storage.url).',
  },
  HANSA_STORAGE_SOURCE: {
    status: null,
    from: 'cli',
    summary:
      'hansa storage migrate found no SQLite event store in the data folder; pass --data-dir.',
  },
  HANSA_CONFIG_INVALID: {
    status: null,
    from: 'node',
    summary: 'An option has a bad value or an unknown name; the message names it and its source.',
  },
  HANSA_SERVICE_DEPENDENCY: {
    status: null,
    from: 'node',
    summary:
      'A service needs another service that is not enabled; the message names the option to set.',
  },
  HANSA_KEY_EXISTS: {
    status: null,
    from: 'node',
    summary: 'A key file already exists where a new one would be written.',
  },
  HANSA_KEY_INVALID: {
    status: null,
    from: 'node',
    summary: 'A key file does not hold a valid key.',
  },
  HANSA_VERIFIER_SELF_TEST: {
    status: null,
    from: 'node',
    summary: 'A signature verifier failed its BIP-340 self-test when it loaded.',
  },
  HANSA_VERIFIER_UNAVAILABLE: {
    status: null,
    from: 'node',
    summary: 'The verifier backend asked for (verify.backend) cannot load on this machine.',
  },
  HANSA_VERIFY_POOL_OPTIONS: {
    status: null,
    from: 'node',
    summary: 'The verify pool was given a bad thread count.',
  },
  HANSA_VERIFY_POOL_CLOSED: {
    status: null,
    from: 'node',
    summary: 'A check reached the verify pool after it closed (the node is stopping).',
  },
  HANSA_VERIFY_POOL_DEAD: {
    status: null,
    from: 'node',
    summary: 'Every verify worker died and none could be restarted.',
  },
  HANSA_VERIFY_WORKER_CRASHED: {
    status: null,
    from: 'node',
    summary:
      'A verify worker died while checking an event; the event is refused, the worker replaced.',
  },
  HANSA_VERIFY_BATCH_FAILED: {
    status: null,
    from: 'node',
    summary: 'A batch of signature checks failed inside a worker.',
  },
  HANSA_STORE_THREAD_CRASHED: {
    status: null,
    from: 'node',
    summary:
      'A store thread died while holding a request; that request failed, the thread is replaced.',
  },
  HANSA_STORE_THREADS_DEAD: {
    status: null,
    from: 'node',
    summary: 'Every store thread died before it could open the database; see the log for why.',
  },
  HANSA_STORE_REQUEST_FAILED: {
    status: null,
    from: 'node',
    summary:
      'A store thread could not carry out a request (a write, a query); the message says why.',
  },
  HANSA_STORE_CLOSED: {
    status: null,
    from: 'node',
    summary: 'A request reached the store after it closed (the node is stopping).',
  },
  // ---- node: every API ----
  HANSA_INTERNAL: {
    status: 500,
    from: 'node',
    summary: 'Something failed inside the node; it logged the details.',
  },
  HANSA_REQUEST_INVALID: {
    status: 400,
    from: 'node',
    summary: 'A federation API request does not match its schema.',
  },
  // ---- node: federation API ----
  HANSA_NOT_GUARDIAN: {
    status: 403,
    from: 'node',
    summary: 'Only a guardian of the current manifest may do this.',
  },
  HANSA_SIGNATURE_INVALID: {
    status: 422,
    from: 'node',
    summary: 'A signature on a proposal does not verify.',
  },
  HANSA_PROPOSAL_NOT_FOUND: {
    status: 404,
    from: 'node',
    summary: 'No pending proposal has that id.',
  },
  HANSA_PROPOSALS_FULL: {
    status: 409,
    from: 'node',
    summary: 'The node holds as many pending proposals as it keeps.',
  },
  HANSA_REGISTRY_NONE: {
    status: 409,
    from: 'node',
    summary:
      'The node names no FederationRegistry (billing.evm.registry), so it gathers no registry signatures.',
  },
  HANSA_REGISTRY_SIGNATURE: {
    status: 422,
    from: 'node',
    summary:
      "A registry signature is not the author's over that manifest version's EIP-712 update, or is for another registry or chain.",
  },
  HANSA_FEDERATION_NONE: {
    status: 409,
    from: 'node',
    summary: 'The node follows no federation yet.',
  },
  HANSA_FEDERATION_MISMATCH: {
    status: 409,
    from: 'node',
    summary: 'The manifest belongs to another federation than the one this node follows.',
  },
  HANSA_FEDERATION_UNINVITED: {
    status: 403,
    from: 'node',
    summary:
      "A genesis (draft or chain) the node's coordinator did not ask for: a standalone node adopts a federation only from its configuration, NIP-98 by the node key or an admin key, or its one-time setup token.",
  },
  HANSA_METRICS_TOKEN: {
    status: 401,
    from: 'node',
    summary:
      'A /metrics scrape sent a bearer token that is not the configured metricsToken; scrape without one for the totals.',
  },
  HANSA_RATE_LIMITED: {
    status: 429,
    from: 'node',
    summary: 'Too many requests of this kind from one address; wait and try again.',
  },
  // ---- node: discovery API ----
  HANSA_DISCOVERY_OFF: { status: 409, from: 'node', summary: "The node's Discovery v5 is off." },
  HANSA_ENR_INVALID: { status: 400, from: 'node', summary: 'An ENR does not decode.' },
  HANSA_ENR_NOT_MEMBER: {
    status: 403,
    from: 'node',
    summary: "An ENR's node is not listed by the manifest.",
  },
  HANSA_PROOF_CHALLENGE: {
    status: 400,
    from: 'node',
    summary: 'A node-key proof was asked with a bad challenge.',
  },
  HANSA_PROOF_RELAY: {
    status: 400,
    from: 'node',
    summary: 'A node-key proof was asked for a relay URL that is not this node’s.',
  },
  // ---- node: billing API ----
  HANSA_BILLING_BAD_REQUEST: {
    status: 400,
    from: 'node',
    summary: 'A billing API request is malformed; the message says which field.',
  },
  HANSA_BILLING_FORBIDDEN: {
    status: 403,
    from: 'node',
    summary: 'The caller may not see or do this (the books are for the node key and admins).',
  },
  HANSA_BILLING_NOT_FOUND: {
    status: 404,
    from: 'node',
    summary: 'No such quote, subscription or account.',
  },
  HANSA_SUBSCRIPTION_CONSENT: {
    status: 403,
    from: 'node',
    summary:
      "A key added to someone's subscription has not signed its consent (kind 29243 naming the node, the service and the owner; `hansa account consent`), or the consent is wrong, stale or badly signed.",
  },
  HANSA_QUOTE_PAID: { status: 409, from: 'node', summary: 'The quote is already paid.' },
  HANSA_QUOTE_EXPIRED: {
    status: 410,
    from: 'node',
    summary: 'The quote has expired; ask for a new one.',
  },
  HANSA_PAYMENT_AMOUNT: {
    status: 402,
    from: 'node',
    summary: 'A payment does not match the amount quoted.',
  },
  HANSA_PAYMENT_PROOF: {
    status: 400,
    from: 'node',
    summary:
      "The node's rail takes no proof of this kind (the ledger rail is paid by cheque; the evm rail by transaction).",
  },
  // ---- node: the evm rail (docs/settlement.md) ----
  HANSA_PAYMENT_TX_MALFORMED: {
    status: 400,
    from: 'node',
    summary: 'proof.tx is not a transaction hash (0x and 64 hex digits).',
  },
  HANSA_PAYMENT_TX_UNKNOWN: {
    status: 404,
    from: 'node',
    summary: "The node's chain knows no such transaction.",
  },
  HANSA_PAYMENT_UNCONFIRMED: {
    status: 409,
    from: 'node',
    summary:
      'The payment is not mined yet, or has fewer confirmations than the node asks; send it again later.',
  },
  HANSA_PAYMENT_REVERTED: {
    status: 402,
    from: 'node',
    summary: 'The payment transaction reverted: nothing was paid.',
  },
  HANSA_PAYMENT_CONTRACT: {
    status: 402,
    from: 'node',
    summary: "The transaction is not one payment through this node's PaymentRouter.",
  },
  HANSA_PAYMENT_NODE: { status: 402, from: 'node', summary: 'The transaction pays another node.' },
  HANSA_PAYMENT_QUOTE: {
    status: 402,
    from: 'node',
    summary:
      'The transaction pays for another quote, service, number of periods or set of pubkeys.',
  },
  HANSA_PAYMENT_REUSED: {
    status: 409,
    from: 'node',
    summary: 'The transaction already paid for a subscription on this node.',
  },
  HANSA_CHAIN_UNAVAILABLE: {
    status: 503,
    from: 'node',
    summary: "The chain's RPC did not answer: nothing was checked or credited; try again.",
  },
  HANSA_CHEQUE_CHEQUEBOOK: {
    status: 403,
    from: 'node',
    summary: "Hard mode: the chequebook was not deployed by the factory the node's terms name.",
  },
  HANSA_CHEQUE_BOUNCED: {
    status: 403,
    from: 'node',
    summary: 'Hard mode: the chequebook bounced a cheque; the node takes no more cheques from it.',
  },
  HANSA_CHEQUE_UNCOVERED: {
    status: 402,
    from: 'node',
    summary:
      "Hard mode: the chequebook's balance and hard deposit do not cover what is uncashed; deposit more.",
  },
  // ---- node: order book API ----
  HANSA_ORDERBOOK_OFF: {
    status: 503,
    from: 'node',
    summary: 'The order book is off on this node (its manifest entry does not list it).',
  },
  HANSA_ORDER_INVALID: {
    status: 400,
    from: 'node',
    summary: 'An order-book request does not match its schema.',
  },
  HANSA_ORDER_NOT_FOUND: { status: 404, from: 'node', summary: 'No order has that id here.' },
  HANSA_ORDER_TERMS: {
    status: 422,
    from: 'node',
    summary: "An order is outside the coordinator's trading terms (currency, amount, lifetime).",
  },
  HANSA_ORDER_OPEN_TAKES: {
    status: 429,
    from: 'node',
    summary:
      'The key already holds orderbook.maxOpenTakesPerKey orders in progress: finish one, or wait until an unconfirmed take lapses.',
  },
  HANSA_ORDER_UNCONFIRMED: {
    status: 409,
    from: 'node',
    summary:
      'The maker has not confirmed the take yet (POST /orderbook/orders/:id/confirm), so the taker cannot complete the trade.',
  },
  // ---- client ----
  HANSA_NO_KEY: { status: null, from: 'client', summary: 'The client has no user key yet.' },
  HANSA_SIGNER_REFUSED: {
    status: null,
    from: 'client',
    summary:
      'The browser signer (NIP-07) gave no pubkey, refused, or returned an event that does not verify as the key.',
  },
  HANSA_SIGNER_UNSUPPORTED: {
    status: null,
    from: 'client',
    summary: 'The browser signer (NIP-07) lacks what the act needs (NIP-44 encryption for mail).',
  },
  HANSA_EVM_NO_WALLET: {
    status: null,
    from: 'client',
    summary: 'No injected Ethereum wallet (EIP-1193, window.ethereum), or it gave no account.',
  },
  HANSA_EVM_WRONG_CHAIN: {
    status: null,
    from: 'client',
    summary: "The wallet is on another chain than the node's terms name: switch it.",
  },
  HANSA_EVM_FUNDS: {
    status: null,
    from: 'client',
    summary: 'The paying account lacks the tokens for the quote or the ether for gas.',
  },
  HANSA_EVM_REJECTED: {
    status: null,
    from: 'client',
    summary:
      'The user rejected a request in her Ethereum wallet: that step sent nothing; try again to go on.',
  },
  HANSA_SIGNER_NEEDS_SECRET: {
    status: null,
    from: 'client',
    summary:
      'An act that is not a Nostr event (an EIP-712 cheque, a manifest signature) needs the key itself, which a NIP-07 signer does not hand out: pay by wallet on the evm rail, or use a key kept locally for that act.',
  },
  HANSA_NOT_JOINED: {
    status: null,
    from: 'client',
    summary: 'The client has joined no federation yet (hansa join).',
  },
  HANSA_JOIN_FAILED: {
    status: null,
    from: 'client',
    summary:
      "Joining failed: no invite URL served a manifest chain that verifies against the code's id.",
  },
  HANSA_NO_NODE: {
    status: null,
    from: 'client',
    summary: 'No trusted node offers the service asked for.',
  },
  HANSA_ALL_NODES_FAILED: {
    status: null,
    from: 'client',
    summary: 'Every node tried failed; the message lists each failure.',
  },
  HANSA_NODE_UNREACHABLE: { status: null, from: 'client', summary: 'A node did not answer.' },
  HANSA_NODE_ERROR: {
    status: null,
    from: 'client',
    summary: 'A node answered with an error the client could not read.',
  },
  HANSA_CLIENT_STORE: {
    status: null,
    from: 'client',
    summary: "The client's state file cannot be read or written.",
  },
  HANSA_CHEQUEBOOK_MISSING: {
    status: null,
    from: 'client',
    summary:
      'A node meters a service in hard mode and the user has no chequebook from its factory: deploy one (hansa chequebook deploy, or the web app from a wallet).',
  },
  HANSA_TRUST_LIST: {
    status: null,
    from: 'client',
    summary: 'The trust list names no such coordinator.',
  },
  HANSA_INBOX_NO_RELAYS: {
    status: null,
    from: 'client',
    summary: 'The recipient has published no inbox relays (kind 10050).',
  },
  HANSA_PUBKEY_INVALID: {
    status: null,
    from: 'client',
    summary: 'A pubkey is not 64 hex characters or an npub.',
  },
  HANSA_ORDER_COORDINATOR: {
    status: null,
    from: 'client',
    summary: "No node of the order's coordinator could be reached.",
  },
  HANSA_ORDER_IDENTITY: {
    status: null,
    from: 'client',
    summary: 'The order was not published by a node its coordinator lists.',
  },
  // ---- cli ----
  HANSA_USAGE: {
    status: null,
    from: 'cli',
    summary: 'A command was called wrongly; the message shows the usage.',
  },
  HANSA_KEY_MISSING: {
    status: null,
    from: 'cli',
    summary: 'The guardian key file does not exist.',
  },
  HANSA_NODE_MISSING: { status: null, from: 'cli', summary: 'No node URL was given or found.' },
  HANSA_CHAIN_FILE: { status: null, from: 'cli', summary: 'A manifest chain file cannot be read.' },
  HANSA_PROPOSAL_REFUSED: {
    status: null,
    from: 'cli',
    summary: 'The node refused the proposal; the message gives its reason.',
  },
  HANSA_ANCHOR_SHORT: {
    status: null,
    from: 'cli',
    summary:
      'The registry signatures gathered for a manifest version fall short of a threshold (the previous or the new guardians); nothing was sent.',
  },
  HANSA_DRAFT_REFUSED: {
    status: null,
    from: 'cli',
    summary: 'A genesis draft failed its checks (a node unreachable, the wrong number of codes).',
  },
  HANSA_DEVNET_STATE: {
    status: null,
    from: 'cli',
    summary: "The devnet's state folder cannot be used.",
  },
  HANSA_DEVNET_NODE_FAILED: { status: null, from: 'cli', summary: 'A devnet node did not start.' },
  HANSA_DEVNET_DRAFT: { status: null, from: 'cli', summary: "The devnet's genesis draft failed." },
  HANSA_DEVNET_SEAL: {
    status: null,
    from: 'cli',
    summary: "The devnet's genesis could not be sealed.",
  },
  HANSA_DEVNET_ABORTED: {
    status: null,
    from: 'cli',
    summary: 'The devnet was stopped while starting.',
  },
  HANSA_ORDERS_USAGE: { status: null, from: 'cli', summary: 'hansa orders was called wrongly.' },
  HANSA_ORDERS_FEDERATION: {
    status: null,
    from: 'cli',
    summary: 'hansa orders needs a federation: join one or pass --invite.',
  },
} as const satisfies Record<`HANSA_${string}`, Entry>

/** Every code Hansa gives. */
export type HansaErrorCode = keyof typeof HANSA_ERRORS

export const HANSA_ERROR_CODES: readonly HansaErrorCode[] = Object.keys(HANSA_ERRORS).filter(
  (code): code is HansaErrorCode => code in HANSA_ERRORS,
)

export const isHansaErrorCode = (code: string): code is HansaErrorCode => code in HANSA_ERRORS

/** The HTTP status a node answers a code with (400 for a code a node never sends). */
export const httpStatusOfCode = (code: HansaErrorCode): number => HANSA_ERRORS[code].status ?? 400

/** docs/errors.md's table, generated from the catalogue. */
export function errorsMarkdown(): string {
  const rows = HANSA_ERROR_CODES.map((code) => {
    const e: Entry = HANSA_ERRORS[code]
    return `| \`${code}\` | ${e.from} | ${e.status ?? '–'} | ${e.summary} |`
  })
  return ['| code | from | HTTP status | meaning |', '|---|---|---|---|', ...rows].join('\n')
}
