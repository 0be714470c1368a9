// `hansa devnet`: starts a working federation on this machine (3 guardians, threshold 2;
// 2 coordinators; 3 nodes), prints where everything is, and runs until Ctrl-C, which stops
// every node cleanly (SIGTERM, then waits for each to finish).
import Table from 'cli-table3'
import { type DevnetInfo, startDevnet } from '../federation/devnet.js'
import { type SampleOrder, addSampleOrders } from '../orders/samples.js'
import { lines, output } from '../print.js'

/** node-1's web app, with the invite code in the link so opening it joins the devnet. */
export function webAppUrl(info: DevnetInfo): string {
  return `${info.nodes[0]!.url.replace(/^ws/, 'http')}/app/#nodes?invite=${info.inviteCode}`
}

function text(info: DevnetInfo & { sampleOrders?: SampleOrder[] }): string {
  const table = new Table({
    head: ['node', 'coordinator', 'URL', 'data dir'],
    style: { head: [], border: [] },
  })
  for (const n of info.nodes) table.push([n.name, n.coordinator, n.url, n.dataDir])
  return lines([
    '',
    info.resumed
      ? `Hansa devnet resumed from ${info.dataDir}`
      : `Hansa devnet: federation sealed by ${info.signedBy.join(' and ')} (threshold ${info.threshold} of ${info.guardians.length} guardians: ${info.guardians.map((g) => g.name).join(', ')})`,
    table.toString(),
    `federation id  ${info.federationId}`,
    `guardians      ${info.guardians.map((g) => `${g.name} ${g.dir}`).join('\n               ')}`,
    'invite code',
    '',
    `  ${info.inviteCode}`,
    '',
    `web app        ${webAppUrl(info)}`,
    '               (every node serves it at /app; this link joins the devnet)',
    '',
    `Try: npx hansa federation show --node ${info.nodes[0]!.url}`,
    `     npx hansa federation propose --data-dir ${info.guardians[0]!.dir} --threshold 3`,
    `     npx hansa federation sign --data-dir ${info.guardians[1]!.dir} --yes`,
    `     npx hansa orders --devnet ${info.dataDir}   (the joint order book${info.sampleOrders ? `: ${info.sampleOrders.length} sample orders` : ''})`,
    ...chainLines(info),
    `Ctrl-C stops the devnet${info.chain ? ' and its chain' : ''}; its data stays in ${info.dataDir} (run again to resume).`,
  ])
}

/** How to pay the paid nodes: the chain, the users, and the commands. */
function chainLines(info: DevnetInfo): string[] {
  const c = info.chain
  if (!c) return []
  const url = (name: string) => info.nodes.find((n) => n.name === name)!.url
  const alice = c.users[0]!
  const rpc = `--rpc-url ${c.rpcUrl}`
  // the user's client config beside her key: the metered commands find key and chequebook there
  const config = `--config ${alice.keyFile.replace(/user\.key$/, 'client.json')}`
  return [
    '',
    `chain          anvil ${c.rpcUrl} (chain ${c.chainId})${c.anchored ? `; manifest v${c.anchored.version} anchored in registry ${c.registry}` : ''}`,
    `contracts      token ${c.token}, router ${c.router}, chequebook factory ${c.chequebookFactory}`,
    `access         ${Object.entries(c.access)
      .map(
        ([n, a]) =>
          `${n} ${a === 'metered' ? 'metered (hard mode, cheques cashed on chain)' : a === 'subscription' ? 'subscription (paid by transaction)' : 'free'}`,
      )
      .join('; ')}`,
    `users          ${c.users.map((u) => `${u.name} ${u.keyFile} (${u.address})`).join('\n               ')}`,
    'Pay:',
    `     npx hansa wallet --node ${url('node-3')} --key ${alice.keyFile} ${rpc}`,
    `     npx hansa account subscribe --node ${url('node-3')} --periods 1 --key ${alice.keyFile} ${rpc}`,
    `     npx hansa chequebook deploy --node ${url('node-2')} --amount 1000000 ${config} ${rpc}`,
    `     npx hansa join <the invite code above> ${config}   (then node-2's metered inbox is paid from that chequebook:)`,
    `     npx hansa subscribe --node ${url('node-2')} ${config};  npx hansa inbox read ${config}`,
    `     npx hansa billing --node ${url('node-2')} --data-dir ${info.nodes[1]!.dataDir}   (uncashed, cashed, bounced)`,
  ]
}

export default async function run(opts: {
  dataDir?: string
  json?: boolean
  sampleOrders?: boolean
  chain?: boolean
}): Promise<void> {
  // Signals are ours from the start: Ctrl-C during the ceremony stops the nodes started so far.
  const abort = new AbortController()
  let onSignal = (signal: string) => abort.abort(signal)
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  const devnet = await startDevnet({
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    progress: (line) => process.stderr.write(`  ${line}\n`),
    signal: abort.signal,
    chain: opts.chain ?? true,
  })
  let shown: DevnetInfo & { sampleOrders?: SampleOrder[] } = devnet.info
  if (opts.sampleOrders) {
    try {
      shown = { ...devnet.info, sampleOrders: await addSampleOrders(devnet.info) }
    } catch (error) {
      await devnet.stop()
      throw error
    }
  }
  output(opts.json, shown, text)
  await new Promise<void>((done) => {
    let stopping = false
    const stop = (why: string) => {
      if (stopping) return
      stopping = true
      process.stderr.write(`\n${why}: stopping the nodes…\n`)
      devnet.stop().then(() => {
        process.stderr.write(`devnet stopped; data kept in ${devnet.info.dataDir}\n`)
        done()
      })
    }
    onSignal = stop
    devnet.unexpectedExit.then(({ node, code }) => {
      process.exitCode = 1
      stop(`${node} exited unexpectedly (code ${code}; see its node.log)`)
    })
  })
}
