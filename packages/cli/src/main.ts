#!/usr/bin/env node
// The `hansa` command: one table of commands, each module loaded only when its command runs.
import { Command } from 'commander'
import type { TrustAction } from './client/user.js'
import { runCommand } from './run.js'

const program = new Command()
program
  .name('hansa')
  .description('Hansa: a federation of independently run, paid service nodes.')
  .version('0.1.0')

const node = program.command('node').description('run a Hansa node')
node
  .command('start')
  .description(
    'start a node: Nostr relay + HTTP API on one port, data on embedded SQLite (or PostgreSQL: storage.backend)',
  )
  .option('--data-dir <dir>', 'folder for the database and the node key (default ./hansa-data)')
  .option('--port <n>', 'TCP port (default 7447; 0 picks a free one)')
  .option('--host <address>', 'address to listen on (default 127.0.0.1)')
  .option('--public-url <url>', 'ws:// or wss:// URL clients use to reach this node')
  .option('--config <file>', 'JSON config file (default <data-dir>/config.json if it exists)')
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
  .option('--inbox-access <mode>', 'free, subscription or metered (inbox.access)')
  .action((opts) => runCommand(() => import('./commands/node-start.js'), opts))

const storage = program
  .command('storage')
  .description("a node's event store: export, import, move to PostgreSQL, stats")
const storageOptions = (cmd: Command) =>
  cmd
    .option('--data-dir <dir>', 'the node folder (default ./hansa-data)')
    .option('--config <file>', 'JSON config file (storage.backend, storage.url)')
    .option('--quiet', 'no progress on stderr')
storageOptions(
  storage.command('stats').description('events and bytes in the configured store (JSON)'),
).action((opts) => runCommand(() => import('./commands/storage.js'), { ...opts, command: 'stats' }))
storageOptions(
  storage
    .command('export')
    .description('write every event as JSON lines, oldest first (to stdout or --out)')
    .option('--out <file>', 'file to write (default: stdout)'),
).action((opts) =>
  runCommand(() => import('./commands/storage.js'), { ...opts, command: 'export' }),
)
storageOptions(
  storage
    .command('import')
    .description('store events from JSON lines (stdin or --in), each checked like the relay does')
    .option('--in <file>', 'file to read (default: stdin)'),
).action((opts) =>
  runCommand(() => import('./commands/storage.js'), { ...opts, command: 'import' }),
)
storageOptions(
  storage
    .command('migrate')
    .description("copy a SQLite node's events into PostgreSQL and check the counts")
    .requiredOption('--to <backend>', 'postgres')
    .option('--url <url>', 'postgres://user:password@host:port/database (default storage.url)'),
).action((opts) =>
  runCommand(() => import('./commands/storage.js'), { ...opts, command: 'migrate' }),
)

program
  .command('keygen')
  .description('create a new secp256k1 key file (mode 0600) and print its public key')
  .option(
    '--out <file>',
    'where to write the key (default: hansa.key in your config folder, $XDG_CONFIG_HOME/hansa or ~/.config/hansa — never the current folder, where a key could end up committed)',
  )
  .option('--json', 'print JSON')
  .action((opts) => runCommand(() => import('./commands/keygen.js'), opts))

const config = program.command('config').description('the node configuration')
config
  .command('docs')
  .description('print the configuration reference (Markdown)')
  .action(() => runCommand(() => import('./commands/config-docs.js'), {}))
config
  .command('show')
  .description('print the configuration a node would run with (defaults, file, env, flags)')
  .option('--data-dir <dir>', 'data folder')
  .option('--config <file>', 'JSON config file')
  .action((opts) => runCommand(() => import('./commands/config-show.js'), opts))

program
  .command('errors')
  .description('the HANSA_* error codes')
  .command('docs')
  .description('print the table of error codes (Markdown)')
  .action(() => runCommand(() => import('./commands/errors-docs.js'), {}))

const collect = (value: string, previous: string[] = []) => [...previous, value]

const guardian = program.command('guardian').description("a guardian's key and setup code")
guardian
  .command('init')
  .description(
    'create a guardian key (kept if it exists) and print the setup code for the ceremony',
  )
  .requiredOption('--name <name>', 'your name as the manifest will show it')
  .requiredOption('--node-url <url>', 'ws:// URL of your node')
  .option('--data-dir <dir>', 'folder for guardian.key (default ./hansa-guardian)')
  .option('--json', 'print JSON')
  .action((opts) => runCommand(() => import('./commands/guardian-init.js'), opts))

const federation = program
  .command('federation')
  .description('found and govern a federation: draft, sign, propose, inspect, verify')
const keyOptions = (cmd: Command) =>
  cmd
    .option('--data-dir <dir>', 'guardian folder from `guardian init` (default ./hansa-guardian)')
    .option('--key <file>', 'guardian key file (instead of --data-dir)')
keyOptions(
  federation
    .command('draft')
    .description('check the setup codes and live nodes, then post the genesis draft for signing')
    .requiredOption('--name <name>', "the federation's name")
    .requiredOption('--threshold <t>', 'guardians who must sign every change')
    .option('--guardian <code>', "a guardian's setup code (repeat for each)", collect)
    .option('--guardians <n>', 'how many guardian codes to expect')
    .option('--coordinator <alias=pubkey>', 'a coordinator (repeat)', collect)
    .option('--node <alias=url>', "a node, by its coordinator's alias (repeat)", collect)
    .option(
      '--service <name[=json]>',
      'a service the federation runs (default: what the nodes run)',
      collect,
    )
    .option('--dev-fund <recipient>', 'dev fund pubkey or Ethereum address (default: your key)')
    .option('--dev-fund-rate <r>', 'suggested share of income, 0 to 1 (default 0.2)')
    .option('--valid-days <d>', 'days the manifest stays valid (default 365)')
    .option('--out <file>', 'also write the draft manifest to this file')
    .option(
      '--setup-token <url=token>',
      "a standalone node's one-time setup token, printed when it starts (repeat per node)",
      collect,
    )
    .option('--check-only', 'run the checks, post nothing')
    .option('--json', 'print JSON')
    .action((opts) => runCommand(() => import('./commands/federation-draft.js'), opts)),
)
keyOptions(
  federation
    .command('sign')
    .description('review a pending proposal (or the genesis draft) and sign it')
    .option('--node <url>', 'node to read it from (default: your node)')
    .option('--proposal <hash>', 'which proposal, when several are pending')
    .option('--yes', 'sign without asking')
    .option('--json', 'print JSON')
    .action((opts) => runCommand(() => import('./commands/federation-sign.js'), opts)),
)
keyOptions(
  federation
    .command('propose')
    .description('propose the next manifest version (signed by you) for the other guardians')
    .option('--node <url>', 'node to propose on (default: your node)')
    .option('--add-coordinator <alias=pubkey>', 'add a coordinator', collect)
    .option('--remove-coordinator <alias|pubkey>', 'remove a coordinator and its nodes', collect)
    .option('--add-node <alias=url>', "add a coordinator's node (its key is read from it)", collect)
    .option('--remove-node <url|pubkey>', 'remove a node', collect)
    .option('--node-services <node=svc,svc>', "set a node's services", collect)
    .option('--set-service <name[=json]>', 'run a service, or change its parameters', collect)
    .option('--remove-service <name>', 'stop a service federation-wide', collect)
    .option('--add-guardian <code>', 'add a guardian by their setup code', collect)
    .option('--remove-guardian <name|pubkey>', 'remove a guardian', collect)
    .option('--threshold <t>', 'change the threshold')
    .option('--name <name>', 'rename the federation')
    .option('--dev-fund <recipient>', 'change the dev fund recipient')
    .option('--renew', 'allow a proposal that only extends the validity')
    .option('--valid-days <d>', 'days the new version stays valid (default 365)')
    .option('--json', 'print JSON')
    .action((opts) => runCommand(() => import('./commands/federation-propose.js'), opts)),
)
federation
  .command('proposals')
  .description('pending proposals, each with its changes from the head and its signatures')
  .option('--node <url>', 'node to ask (default: your node)')
  .option('--data-dir <dir>', 'guardian folder, for its node')
  .option('--json', 'print JSON')
  .action((opts) => runCommand(() => import('./commands/federation-proposals.js'), opts))
federation
  .command('show')
  .description('the federation a node follows: head, membership, invite code')
  .option('--node <url>', 'node to ask (default: your node)')
  .option('--data-dir <dir>', 'guardian folder, for its node')
  .option('--json', 'print JSON')
  .action((opts) => runCommand(() => import('./commands/federation-show.js'), opts))
federation
  .command('sync-status')
  .description('replication with each peer member node: lag, events sent/received, last catch-up')
  .option('--node <url>', 'node to ask (default: your node)')
  .option('--data-dir <dir>', 'guardian folder, for its node')
  .option('--json', 'print JSON')
  .action((opts) => runCommand(() => import('./commands/federation-sync-status.js'), opts))
federation
  .command('verify')
  .description('verify a chain file offline (a JSON array of signed manifests, oldest first)')
  .argument('<file>', 'chain file')
  .requiredOption('--federation <id>', 'federation id (64 hex) or invite code')
  .option('--json', 'print JSON')
  .action((file, opts) =>
    runCommand(() => import('./commands/federation-verify.js'), { ...opts, file }),
  )

keyOptions(
  federation
    .command('anchor-sign')
    .description(
      "sign the on-chain registry's update for a manifest version you signed (default: the head) and post it to the nodes, for anyone to anchor",
    )
    .option('--node <url>', 'node to read the chain from and post to (default: your node)')
    .option('--manifest-version <n>', 'the manifest version (default: the head)')
    .option('--json', 'print JSON'),
).action((opts) => runCommand(() => import('./commands/federation-anchor-sign.js'), opts))
federation
  .command('anchor')
  .description(
    "write the manifest versions the on-chain FederationRegistry lacks, with the guardians' signatures the node gathered (anyone sends)",
  )
  .option('--node <url>', 'a node of the federation (default ws://127.0.0.1:7447)')
  .option('--rpc-url <url>', 'the chain (or HANSA_RPC_URL)')
  .option('--registry <address>', "the registry (default: the node's terms)")
  .option(
    '--guardian <dir>',
    "a guardian's folder whose key signs too, beside the node's gathered signatures (repeat)",
    collect,
  )
  .option('--key <file>', 'the key that pays the gas (default ./hansa.key)')
  .option('--json', 'print JSON')
  .action((opts) => runCommand(() => import('./commands/federation-anchor.js'), opts))

program
  .command('devnet')
  .description(
    'start a whole federation on this machine: 3 guardians, 2 coordinators, 3 nodes, a local chain',
  )
  .option('--data-dir <dir>', 'where the nodes, keys and devnet.json live (default ./hansa-devnet)')
  .option('--sample-orders', "add a few sample orders to each coordinator's order book")
  .option('--no-chain', 'no local chain: every node free (default: anvil, node-2 and node-3 paid)')
  .option('--json', 'print JSON')
  .action((opts) => runCommand(() => import('./commands/devnet.js'), opts))

// The joint order book (docs/orderbook.md): list, make, take, cancel, complete.
const federationOptions = (cmd: Command) =>
  cmd
    .option('--invite <code>', 'the federation, by invite code')
    .option('--node <url>', 'the federation a node follows')
    .option('--devnet <dir>', 'the federation of a devnet folder (default ./hansa-devnet)')
    .option(
      '--without <coordinator>',
      'leave out a coordinator, by alias or pubkey (repeat)',
      collect,
    )
    .option(
      '--timeout <ms>',
      'how long to wait for a coordinator before showing it stale (default 800)',
    )
    .option(
      '--sources <n>',
      "read the whole federation's book from n member nodes (they replicate it) instead of from every coordinator",
    )
    .option('--json', 'print JSON')
const orderKey = (cmd: Command) =>
  federationOptions(cmd)
    .option('--key <file>', 'your key file (default ./hansa.key)')
    .option(
      '--per-coordinator-keys',
      'use a key derived for each coordinator from yours (unlinkable)',
    )
const orders = program
  .command('orders')
  .description("the joint order book: every trusted coordinator's orders in one table")
federationOptions(
  orders
    .command('list', { isDefault: true })
    .description(
      'the joint order book (the default): side, amount, currency, premium, methods, coordinator, fees',
    )
    .option('--currency <code>', 'only these currencies (EUR or EUR,USD)')
    .option('--side <side>', 'buy or sell (of bitcoin, from the maker)')
    .option('--method <name>', 'a payment method (any case, part of a name)')
    .option('--coordinator <alias>', "only this coordinator's orders")
    .option(
      '--status <s>',
      'pending (default), in-progress, success, canceled, expired; comma-separated',
    ),
).action((opts) => runCommand(() => import('./commands/orders.js'), opts))
orderKey(
  orders
    .command('make')
    .description('make an order at a coordinator; it publishes it signed by its node')
    .requiredOption('--coordinator <alias>', 'the coordinator that will run it')
    .requiredOption('--side <side>', 'buy or sell (bitcoin)')
    .requiredOption('--currency <code>', 'ISO 4217, e.g. EUR')
    .requiredOption('--fiat <amount>', 'the fiat amount (the minimum, with --fiat-max)')
    .option('--fiat-max <amount>', 'a range order: the maximum fiat amount')
    .option('--sats <n>', 'the amount in sats (default: priced at market when taken)')
    .option('--method <name>', 'a payment method (repeat)', collect)
    .option('--premium <percent>', 'above (negative: below) the market price')
    .option('--expires-in <seconds>', 'how long it stays pending')
    .option('--name <nickname>', 'shown in the book')
    .option('--layer <layer>', "lightning, onchain, … (default: the coordinator's first)"),
).action((opts) => runCommand(() => import('./commands/orders-make.js'), opts))
for (const [action, description] of [
  ['take', "take a pending order; the request goes to the order's coordinator"],
  ['cancel', 'cancel your pending order (only its maker may)'],
  [
    'confirm',
    "confirm a take of your order (else it returns to the book after the coordinator's timeout)",
  ],
  ['complete', 'confirm the fiat arrived, ending the trade (the bitcoin seller)'],
] as const) {
  const cmd = orderKey(
    orders
      .command(action)
      .description(description)
      .argument('<id>', 'the order id (hansa orders shows it)')
      .option(
        '--coordinator <alias>',
        "the order's coordinator (sends the request there even if the book cannot see the order)",
      ),
  )
  if (action === 'take') {
    cmd
      .option('--fiat <amount>', 'for a range order: how much')
      .option('--sats <n>', "for an order priced at market: the trade's sats")
  }
  cmd.action((id, opts) =>
    runCommand(() => import('./commands/orders-act.js'), { ...opts, id, action }),
  )
}

// Paid access: terms, a user's account, the coordinator's books (docs/paid-access.md).
const nodeOption = (cmd: Command) =>
  cmd
    .option('--node <url>', 'the node (default ws://127.0.0.1:7447)')
    .option('--json', 'print JSON')
nodeOption(
  program
    .command('terms')
    .description("a node's signed terms: what each service costs, the rail, the dev tax"),
).action((opts) => runCommand(() => import('./commands/terms.js'), opts))
const account = program
  .command('account')
  .description('your account at a node: subscriptions, SWAP balance, payments')
const userKey = (cmd: Command) =>
  nodeOption(cmd).option('--key <file>', 'your key file (default ./hansa.key)')
userKey(account.command('show', { isDefault: true }).description('show your account')).action(
  (opts) => runCommand(() => import('./commands/account.js'), opts),
)
userKey(
  account
    .command('subscribe')
    .description('pay for N periods of a service (renewing extends from the current expiry)')
    .option('--service <name>', 'the service (default inbox)')
    .option('--periods <n>', 'how many periods (default 1)')
    .option('--pubkey <hex>', 'another of your keys to cover (repeat)', collect)
    .option(
      '--consent <file>',
      "a --pubkey key's signed consent (hansa account consent; repeat)",
      collect,
    )
    .option(
      '--added-key <file>',
      'the key file of a key to cover: it signs its own consent (repeat)',
      collect,
    )
    .option('--rpc-url <url>', 'the chain, when the node is paid on chain (or HANSA_RPC_URL)'),
).action((opts) => runCommand(() => import('./commands/account-subscribe.js'), opts))
userKey(
  account
    .command('consent')
    .description(
      "consent, with this key, to be covered by another key's subscription (prints the signed consent)",
    )
    .requiredOption('--owner <pubkey>', "the subscription owner's pubkey (64 hex)")
    .option('--service <name>', 'the service (default inbox)'),
).action((opts) => runCommand(() => import('./commands/account-consent.js'), opts))
userKey(
  program
    .command('wallet')
    .description("your key's address on the node's chain (evm rail), ether and token balances")
    .option('--rpc-url <url>', 'the chain (or HANSA_RPC_URL)')
    .option('--faucet <n>', 'devnet: mint this many test tokens first'),
).action((opts) => runCommand(() => import('./commands/wallet.js'), opts))
userKey(
  program
    .command('chequebook')
    .description("your chequebook on the node's chain, for metered use in hard mode")
    .argument('<action>', 'deploy, deposit, withdraw or status')
    .option('--rpc-url <url>', 'the chain (or HANSA_RPC_URL)')
    .option(
      '--chequebook <address>',
      'the chequebook (deposit, withdraw, status; default: the one deploy remembered)',
    )
    .option(
      '--config <file>',
      'client state file where deploy remembers the chequebook for metered use (default ~/.config/hansa/client.json; with no --key, its user.key)',
    )
    .option('--amount <n>', 'base units to deposit (deploy, deposit) or withdraw')
    .option('--hard-deposit <n>', 'deposit: also promise this much to the node (hard deposit)'),
).action((action, opts) =>
  runCommand(() => import('./commands/chequebook.js'), { ...opts, action }),
)
userKey(
  account
    .command('add-key')
    .description('cover another of your keys with your subscription')
    .argument('<pubkey>', 'the key to add (64 hex)')
    .option('--service <name>', 'the service (default inbox)')
    .option('--consent <file>', "the added key's signed consent (hansa account consent)")
    .option('--added-key <file>', "the added key's key file: it signs its own consent"),
).action((pubkey, opts) =>
  runCommand(() => import('./commands/account-keys.js'), { ...opts, pubkey }),
)
userKey(
  account
    .command('remove-key')
    .description('stop covering one of your keys')
    .argument('<pubkey>', 'the key to remove (64 hex)')
    .option('--service <name>', 'the service (default inbox)'),
).action((pubkey, opts) =>
  runCommand(() => import('./commands/account-keys.js'), { ...opts, pubkey, remove: true }),
)
const nodeKey = (cmd: Command) =>
  nodeOption(cmd)
    .option('--data-dir <dir>', "the node's folder, for its key (default ./hansa-data)")
    .option('--key <file>', 'an admin key file instead (billing.adminPubkeys)')
const billing = program
  .command('billing')
  .description("the coordinator's books: income, dev tax, balances, out-of-bounds peers")
nodeKey(billing.command('show', { isDefault: true }).description('show the books')).action((opts) =>
  runCommand(() => import('./commands/billing.js'), opts),
)
nodeKey(
  billing
    .command('dev-tax-paid')
    .description('book dev tax passed on to the dev fund')
    .requiredOption('--amount <n>', 'base units paid')
    .requiredOption('--reference <text>', 'how it was paid (a transaction id, a note)'),
).action((opts) => runCommand(() => import('./commands/billing-dev-tax.js'), opts))

// The user's side, on the SDK (HansaClient): join, nodes, trust, subscribe, inbox.
const userOptions = (cmd: Command, withKey = false) => {
  cmd
    .option('--config <file>', 'client state file (default ~/.config/hansa/client.json)')
    .option('--json', 'print JSON')
  return withKey ? cmd.option('--key <file>', 'your key (default user.key beside --config)') : cmd
}
userOptions(
  program
    .command('join')
    .description(
      "join a federation: fetch and verify its manifest chain from the invite code's nodes",
    )
    .argument('<invite>', 'invite code (hansa1…)'),
).action((invite, opts) => runCommand(() => import('./commands/join.js'), { ...opts, invite }))
userOptions(
  program
    .command('nodes')
    .description(
      "find the federation's nodes (invite, manifest, discv5, yours), verify each, show terms and why any is rejected",
    )
    .option('--no-discv5', 'skip the Discovery v5 lookup')
    .option('--registry-rpc <url>', 'check each node in the on-chain registry on this chain')
    .option('--require-registry', 'reject nodes the on-chain registry does not list'),
).action((opts) => runCommand(() => import('./commands/nodes.js'), opts))
const trust = program
  .command('trust')
  .description('your trust list: enable or disable coordinators, add or remove your own nodes')
const trustAction = (cmd: Command, action: TrustAction['action'], ...args: string[]) =>
  userOptions(cmd).action((...values: unknown[]) => {
    const opts = values[args.length] as Record<string, unknown>
    const named = Object.fromEntries(args.map((a, i) => [a, values[i]]))
    return runCommand(() => import('./commands/trust.js'), {
      ...opts,
      ...named,
      action,
    } as TrustAction)
  })
trustAction(trust.command('show', { isDefault: true }).description('show the list'), 'show')
for (const verb of ['enable', 'disable', 'reset'] as const) {
  trustAction(
    trust
      .command(verb)
      .description(
        verb === 'reset'
          ? 'forget your choice for a coordinator (it follows the default)'
          : `${verb} a coordinator's nodes`,
      )
      .argument('<coordinator>', 'alias or pubkey'),
    verb,
    'coordinator',
  )
}
trustAction(
  trust
    .command('add-node')
    .description('add a node of your own (it must still prove its key and sign its terms)')
    .argument('<url>', 'ws:// or wss:// URL')
    .option('--pubkey <hex>', 'the key it must prove')
    .option('--note <text>', 'a note for yourself'),
  'add-node',
  'url',
)
trustAction(
  trust.command('remove-node').description('remove a node of yours').argument('<url>', 'its URL'),
  'remove-node',
  'url',
)
trustAction(
  trust
    .command('default')
    .description(
      'coordinators you have not named: enabled (a deny list) or disabled (an allow list)',
    )
    .argument('<choice>', 'enabled or disabled'),
  'default',
  'choice',
)
trustAction(
  trust
    .command('prefer-custom')
    .description('choose your own nodes first (on) or rank them with the others (off)')
    .argument('<value>', 'on or off'),
  'prefer-custom',
  'value',
)
userOptions(
  program
    .command('subscribe')
    .description(
      'pay for a service on the best node, failing over; for the inbox, publish your inbox relay list',
    )
    .option('--service <name>', 'the service (default inbox)')
    .option('--periods <n>', 'periods to pay for on a subscription node (default 1)')
    .option('--node <url>', 'this node rather than the best of the ranking')
    .option('--count <n>', 'how many nodes (default 1)')
    .option('--policy <p>', 'random (default), cheapest, fastest or devfund')
    .option('--rpc-url <url>', 'the chain, for nodes paid on chain (or HANSA_RPC_URL)'),
  true,
).action((opts) => runCommand(() => import('./commands/subscribe.js'), opts))
const inbox = program.command('inbox').description('NIP-17 private messages through inbox nodes')
userOptions(
  inbox
    .command('send')
    .description("send a message to someone's inbox nodes (her kind 10050 list)")
    .argument('<recipient>', 'npub1… or 64 hex')
    .argument('<message...>', 'the message')
    .option('--subject <text>', 'a subject'),
  true,
).action((recipient, message, opts) =>
  runCommand(() => import('./commands/inbox-send.js'), { ...opts, recipient, message }),
)
userOptions(
  inbox
    .command('read')
    .description('read your mail (after AUTH), failing over between your inbox nodes')
    .option('--live', 'keep watching until Ctrl-C')
    .option('--all', 'read every inbox node and merge'),
  true,
).action((opts) => runCommand(() => import('./commands/inbox-read.js'), opts))

await program.parseAsync()
