// The client's side of Discovery v5: a short-lived discv5 service with a throwaway key and an
// ENR without an address (so nodes answer it but never add it to their tables), bootstrapped
// from ENRs, that crawls: every node it learns of is asked FINDNODE for its top buckets. It stops when no
// node is left to ask, at `maxNodes`, or at the deadline, and returns every ENR seen.
//
// A crawl rather than discv5's iterative lookup: a Hansa federation is small next to
// Ethereum's DHT, and a crawl of its nodes' tables finds them all in a few round trips, where a
// lookup toward one target stops at the 16 closest. (Distances 256..253 hold 15/16 of a
// table; a node missing from one table's top buckets is in another's.) Each first contact
// costs a discv5 handshake (~15 ms of this process's CPU in @chainsafe/discv5's JavaScript
// secp256k1), so the crawl asks `parallel` nodes at a time and stops asking once `settleAfter`
// answers in a row taught it nothing new: the tables agree. The ENRs are returned as they
// are; which to keep is verify-node.ts's business.
import { Discv5 } from '@chainsafe/discv5'
import { ENR, SignableENR } from '@chainsafe/enr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'

export type LookupOptions = {
  /** ENR texts (`enr:…`) to start from. */
  bootnodes: readonly string[]
  /** Give up after this many milliseconds (default 1500). */
  timeoutMs?: number
  /** Stop once this many ENRs are known (default 500). */
  maxNodes?: number
  /** FINDNODE requests in flight at once (default 3, discv5's alpha). */
  parallel?: number
  /** Stop asking after this many answers in a row brought no new node (default 3). */
  settleAfter?: number
  /** UDP bind address (default 0.0.0.0; :: for IPv6). */
  bindHost?: string
}

export type LookupResult = {
  enrs: ENR[]
  /** Nodes that answered FINDNODE. */
  asked: number
  durationMs: number
}

// Distances 256..253 hold 15/16 of a table's entries; an answer carries at most 16 ENRs.
const DISTANCES = [256, 255, 254, 253]

export async function lookupEnrs(options: LookupOptions): Promise<LookupResult> {
  const started = performance.now()
  const deadline = started + (options.timeoutMs ?? 1500)
  const maxNodes = options.maxNodes ?? 500
  const privateKey = await generateKeyPair('secp256k1')
  const enr = SignableENR.createFromPrivateKey(privateKey)
  const host = options.bindHost ?? '0.0.0.0'
  const bind = multiaddr(`/${host.includes(':') ? 'ip6' : 'ip4'}/${host}/udp/0`)
  const service = Discv5.create({
    enr,
    privateKey,
    bindAddrs: host.includes(':') ? { ip6: bind } : { ip4: bind },
    config: {
      enrUpdate: false,
      requestTimeout: 400,
      requestRetries: 0,
      lookupTimeout: Math.max(100, deadline - performance.now()),
      sessionEstablishTimeout: 1000,
    },
  })
  await service.start()
  const seen = new Map<string, ENR>()
  const queue: ENR[] = []
  const learn = (e: ENR) => {
    if (seen.has(e.nodeId) || seen.size >= maxNodes) return
    seen.set(e.nodeId, e)
    queue.push(e)
  }
  for (const text of options.bootnodes) {
    try {
      const e = ENR.decodeTxt(text)
      learn(e)
      service.addEnr(e)
    } catch {
      // an ENR that does not decode or verify is skipped
    }
  }
  let asked = 0
  let unproductive = 0
  const settleAfter = options.settleAfter ?? 3
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - performance.now()))
  })
  const ask = async (e: ENR) => {
    try {
      const found = await service.sendFindNode(e, DISTANCES)
      asked++
      const before = seen.size
      for (const f of found) learn(f)
      unproductive = seen.size > before ? 0 : unproductive + 1
    } catch {
      // a node that does not answer is simply not asked again
    }
  }
  const crawl = async () => {
    const inFlight = new Set<Promise<void>>()
    while (performance.now() < deadline && seen.size < maxNodes) {
      if (unproductive >= settleAfter) queue.length = 0
      while (queue.length > 0 && inFlight.size < (options.parallel ?? 3)) {
        const p = ask(queue.shift()!).finally(() => inFlight.delete(p))
        inFlight.add(p)
      }
      if (inFlight.size === 0) break
      await Promise.race(inFlight)
    }
  }
  try {
    await Promise.race([crawl(), timeout])
  } finally {
    clearTimeout(timer)
    await service.stop()
  }
  return { enrs: [...seen.values()], asked, durationMs: performance.now() - started }
}
