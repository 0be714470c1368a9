// Discovery v5 for a node (DESIGN.md "Discovery"): one @chainsafe/discv5 service on a UDP port,
// announcing an ENR signed by the node key with the node's federation id, services and
// WebSocket URL (enr.ts), so clients and other nodes find it without being handed its address.
//
// Where the table starts from:
// - `discovery.bootnodes` (ENRs from the configuration);
// - the federation's own nodes: the manifest lists their URLs, and each serves its ENR at
//   GET /discovery — so a federation needs no separate bootnode list — and takes ours at
//   POST /discovery/enr (a node that moved cannot update its record through the discv5
//   handshake with @chainsafe/discv5 11: see enr.ts);
// then a random lookup (FINDNODE walk) every `discovery.lookupIntervalSeconds`, and at once
// whenever the federation changes (the record is re-signed with the new services first).
//
// The record, the peer URLs and the clock are passed in: this file knows nothing of the
// federation or the relay, and a test runs it with plain values.
import { createSocket } from 'node:dgram'
import { isIP } from 'node:net'
import { Discv5 } from '@chainsafe/discv5'
import type { ENR, SignableENR } from '@chainsafe/enr'
import type { NodeRecord } from '@hansa/protocol'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { type DiscoveredPeer, checkSize, createNodeEnr, readPeer, updateNodeEnr } from './enr.js'

export type NodeDiscoveryOptions = {
  /** The node key's 32 secret bytes: they sign the ENR. */
  secretKey: Uint8Array
  /** Address to bind the UDP socket to (the node's `host`). */
  bindHost: string
  /** UDP port; 0 picks a free one. */
  udpPort: number
  /** When `udpPort` is taken, use a free port instead of failing (it was derived, not set). */
  fallbackToFreePort?: boolean
  /** IP the ENR announces; '' derives it (see `announcedIp`). */
  announceIp: string
  /** ENR texts to start from. */
  bootnodes: readonly string[]
  /** What the ENR carries now (read again on `update()`). */
  record: () => NodeRecord
  /** ws:// or http:// URLs of other nodes whose ENR to read from GET /discovery. */
  peerUrls: () => readonly string[]
  lookupIntervalSeconds: number
  log: Logger
  /** Milliseconds one GET /discovery may take (default 2000). */
  fetchTimeoutMs?: number
}

export type DiscoveryStatus = {
  enr: string
  nodeId: string
  pubkey: string
  ip: string | null
  udpPort: number
  record: NodeRecord
  peers: number
}

/** The IP an ENR announces: the configured one, else the bind address when it is specific. */
export function announcedIp(announceIp: string, bindHost: string): string | null {
  if (announceIp !== '') return announceIp
  if (isIP(bindHost) !== 0 && bindHost !== '0.0.0.0' && bindHost !== '::') return bindHost
  return null
}

/**
 * Binds `port` on `host` and releases it: the port it got (a free one for 0; the usual small
 * race, as with TCP port 0). Rejects with EADDRINUSE when `port` is taken.
 */
export async function probeUdpPort(host: string, port = 0): Promise<number> {
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4')
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(port, isIP(host) === 0 ? undefined : host, () => {
      const bound = socket.address().port
      socket.close(() => resolve(bound))
    })
  })
}

async function choosePort(options: NodeDiscoveryOptions): Promise<number> {
  if (options.udpPort === 0) return probeUdpPort(options.bindHost)
  if (!options.fallbackToFreePort) return options.udpPort
  try {
    return await probeUdpPort(options.bindHost, options.udpPort)
  } catch {
    const port = await probeUdpPort(options.bindHost)
    options.log.warn(
      { wanted: options.udpPort, udpPort: port },
      'discovery: the UDP port with the TCP port number is taken; using a free one (set discovery.udpPort to choose)',
    )
    return port
  }
}

const httpOf = (url: string) => url.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/+$/, '')

export class NodeDiscovery {
  private timer: NodeJS.Timeout | undefined
  private refreshing: Promise<void> | undefined
  private stopped = false

  private constructor(
    private readonly service: Discv5,
    private readonly options: NodeDiscoveryOptions,
    readonly udpPort: number,
  ) {}

  static async start(options: NodeDiscoveryOptions): Promise<NodeDiscovery> {
    const port = await choosePort(options)
    const enr: SignableENR = createNodeEnr(options.secretKey, options.record())
    const ip = announcedIp(options.announceIp, options.bindHost)
    const v6 = isIP(ip ?? options.bindHost) === 6
    if (ip !== null) {
      if (v6) enr.ip6 = ip
      else enr.ip = ip
    }
    if (v6) enr.udp6 = port
    else enr.udp = port
    checkSize(enr)
    const bindHost =
      isIP(options.bindHost) === 0 ? (v6 ? '::' : '0.0.0.0') : (options.bindHost as string)
    const bind = multiaddr(`/${v6 ? 'ip6' : 'ip4'}/${bindHost}/udp/${port}`)
    const service = Discv5.create({
      enr,
      privateKey: privateKeyFromRaw(options.secretKey),
      bindAddrs: v6 ? { ip6: bind } : { ip4: bind },
      config: {
        // Learn our address from peers only when none is configured or implied by host.
        enrUpdate: ip === null,
        addrVotesToUpdateEnr: 2,
        requestTimeout: 1000,
        lookupTimeout: 10_000,
      },
    })
    await service.start()
    const discovery = new NodeDiscovery(service, options, port)
    for (const text of options.bootnodes) discovery.addEnr(text, 'bootnode')
    discovery.timer = setInterval(
      () => void discovery.refresh(),
      options.lookupIntervalSeconds * 1000,
    )
    discovery.timer.unref()
    options.log.info(
      { udpPort: port, ip, nodeId: service.enr.nodeId, bootnodes: options.bootnodes.length },
      'discovery v5 listening',
    )
    void discovery.refresh()
    return discovery
  }

  /** The ENR now, as text (`enr:…`). */
  enr(): string {
    return this.service.enr.encodeTxt()
  }

  status(): DiscoveryStatus {
    const enr = this.service.enr
    const peer = readPeer(enr.toENR())
    return {
      enr: enr.encodeTxt(),
      nodeId: enr.nodeId,
      pubkey: peer?.pubkey ?? '',
      ip: enr.ip ?? enr.ip6 ?? null,
      udpPort: this.udpPort,
      record: this.options.record(),
      peers: this.service.kadValues().length,
    }
  }

  /** The nodes in the routing table. */
  peers(): DiscoveredPeer[] {
    return this.service
      .kadValues()
      .map((enr) => readPeer(enr))
      .filter((p): p is DiscoveredPeer => p !== null)
  }

  /**
   * Adds an ENR to the table, or replaces the one it holds for that node when this one has a
   * higher sequence number (ours and undecodable ones are skipped). Returns whether the table
   * now holds it.
   */
  addEnr(text: string | ENR, source: string): boolean {
    const peer = readPeer(text)
    if (peer === null) {
      this.options.log.warn({ source }, 'discovery: an ENR that does not decode or verify')
      return false
    }
    if (peer.nodeId === this.service.enr.nodeId) return false
    try {
      this.service.addEnr(peer.enr)
      return this.service.getKadValue(peer.nodeId)?.seq.toString() === peer.seq
    } catch (err) {
      this.options.log.debug({ err, source }, 'discovery: ENR not added')
      return false
    }
  }

  /**
   * Re-signs the ENR when the record changed (services, federation, URL), and pings every node
   * in the table: a PING carries our sequence number, and a peer that holds an older record
   * asks for the new one at once (rather than at its next five-minutely ping).
   */
  update(): boolean {
    const changed = updateNodeEnr(this.service.enr, this.options.record())
    if (changed) {
      this.options.log.info(
        { seq: this.service.enr.seq.toString(), record: this.options.record() },
        'discovery: ENR updated',
      )
      for (const enr of this.service.kadValues()) {
        this.service.sendPing(enr).catch(() => {})
      }
    }
    return changed
  }

  /** Reads the federation nodes' ENRs and runs a random lookup; one run at a time. */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    this.refreshing ??= this.refreshNow().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  private async refreshNow(): Promise<void> {
    const timeout = this.options.fetchTimeoutMs ?? 2000
    await Promise.all(
      this.options.peerUrls().map(async (url) => {
        try {
          const [theirs] = await Promise.all([
            fetch(`${httpOf(url)}/discovery`, { signal: AbortSignal.timeout(timeout) }),
            fetch(`${httpOf(url)}/discovery/enr`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ enr: this.enr() }),
              signal: AbortSignal.timeout(timeout),
            }),
          ])
          if (!theirs.ok) return
          const body = (await theirs.json()) as { enr?: unknown }
          if (typeof body.enr === 'string') this.addEnr(body.enr, url)
        } catch {
          // A peer that is down is tried again at the next refresh.
        }
      }),
    )
    if (this.stopped || this.service.kadValues().length === 0) return
    try {
      await this.service.findRandomNode()
    } catch (err) {
      this.options.log.debug({ err }, 'discovery: lookup failed')
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.service.stop()
  }
}
