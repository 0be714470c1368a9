// Who sees what at /metrics. Prometheus scrapes are usually open to anyone who can reach the
// port, and some series name peers: a peer's key and SWAP balance (billing), a replication
// peer's URL. Those are the coordinator's business, so /metrics shows them only to a scrape
// with the configured bearer token (`metricsToken`); anyone else gets the other series —
// totals, rates, latencies. A wrong token is refused (401), so a misconfigured scraper is seen.
//
// A scrape renders every series and reads /proc and the store (about 3 ms of CPU), so one
// address may scrape at most SCRAPES_PER_SECOND times a second (429 beyond): Prometheus
// scrapes every 15 s or so, and a stranger who loops on /metrics gets no more of the node.
import { timingSafeEqual } from 'node:crypto'
import { HansaError } from '@hansa/protocol'

/** Scrapes one address may make a second, and in a burst. */
export const SCRAPES_PER_SECOND = 10
export const SCRAPE_BURST = 20

/** Labels that name a peer (a key, a URL); a series carrying one is for the token only. */
export const PEER_LABELS = ['peer'] as const

/** The text exposition without the series that carry a peer label (and their HELP/TYPE). */
export function withoutPeerSeries(text: string): string {
  const peer = new RegExp(`[{,](${PEER_LABELS.join('|')})="`)
  const kept: string[] = []
  // Each family is its HELP and TYPE lines then its samples; a family left with no sample
  // loses its header too, so the output stays well formed.
  let header: string[] = []
  let samples = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) {
      header = [line]
      samples = 0
      continue
    }
    if (line.startsWith('#')) {
      header.push(line)
      continue
    }
    if (line === '' || peer.test(line.slice(0, line.lastIndexOf('}') + 1))) continue
    if (samples === 0) kept.push(...header)
    samples++
    kept.push(line)
  }
  return `${kept.join('\n')}\n`
}

/**
 * Whether a scrape may see the peer series: true for `Authorization: Bearer <metricsToken>`,
 * false without the header; a wrong token (or any token while none is configured) is refused.
 */
export function scrapeSeesPeers(authorization: string | undefined, token: string): boolean {
  if (authorization === undefined) return false
  const given = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1]
  if (token !== '' && given !== undefined) {
    const a = Buffer.from(given)
    const b = Buffer.from(token)
    if (a.length === b.length && timingSafeEqual(a, b)) return true
  }
  throw new MetricsTokenError()
}

class MetricsTokenError extends HansaError {
  override name = 'MetricsTokenError'
  readonly status = 401
  constructor() {
    super(
      'HANSA_METRICS_TOKEN',
      'this bearer token does not open /metrics (scrape without Authorization for the totals)',
    )
  }
}

export class MetricsRateLimitedError extends HansaError {
  override name = 'MetricsRateLimitedError'
  constructor() {
    super(
      'HANSA_RATE_LIMITED',
      `rate-limited: at most ${SCRAPES_PER_SECOND} /metrics scrapes a second from one address`,
    )
  }
}
