// A bare NIP-01 client socket for the benchmark, on the `ws` package and nothing else: the
// client must not be what limits the figures. Sending is `ws.send` of a pre-serialised
// string. Receiving classifies each frame by its first bytes; an EVENT (most frames in a
// query phase) is counted by subscription id without being parsed, every other message is
// small and goes through JSON.parse.
import WebSocket from 'ws'

export type RelayFrame =
  | { type: 'EVENT'; subId: string }
  | { type: 'OK'; id: string; ok: boolean; message: string }
  | { type: 'EOSE'; subId: string }
  | { type: 'CLOSED'; subId: string; message: string }
  | { type: 'NOTICE'; message: string }
  | { type: 'AUTH'; challenge: string }
  | { type: 'OTHER'; raw: string }

const EVENT_PREFIX = Buffer.from('["EVENT","')
const QUOTE = 0x22

/** Reads one relay message. EVENTs are not parsed: only their subscription id is read. */
export function classifyFrame(data: Buffer): RelayFrame {
  if (
    data.length > EVENT_PREFIX.length &&
    data.subarray(0, EVENT_PREFIX.length).equals(EVENT_PREFIX)
  ) {
    const end = data.indexOf(QUOTE, EVENT_PREFIX.length)
    return { type: 'EVENT', subId: data.toString('utf8', EVENT_PREFIX.length, end) }
  }
  const raw = data.toString('utf8')
  let m: unknown
  try {
    m = JSON.parse(raw)
  } catch {
    return { type: 'OTHER', raw }
  }
  if (!Array.isArray(m)) return { type: 'OTHER', raw }
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  switch (m[0]) {
    case 'OK':
      return { type: 'OK', id: str(m[1]), ok: m[2] === true, message: str(m[3]) }
    case 'EOSE':
      return { type: 'EOSE', subId: str(m[1]) }
    case 'CLOSED':
      return { type: 'CLOSED', subId: str(m[1]), message: str(m[2]) }
    case 'NOTICE':
      return { type: 'NOTICE', message: str(m[1]) }
    case 'AUTH':
      return { type: 'AUTH', challenge: str(m[1]) }
    default:
      return { type: 'OTHER', raw }
  }
}

/** The machine-readable prefix of an OK or CLOSED message (`rate-limited`, `invalid`, …). */
export const reasonPrefix = (message: string): string => {
  const colon = message.indexOf(':')
  return colon > 0 ? message.slice(0, colon) : message || '(no message)'
}

export class RelaySocket {
  /** Set by the phase using the socket. */
  onFrame: (frame: RelayFrame) => void = () => {}
  /** Set when the socket closes; a phase waiting on it should stop. */
  closedReason: string | undefined
  onClose: (reason: string) => void = () => {}
  /** The NIP-42 challenge the relay sent on connect (resolves when it arrives). */
  readonly challenge: Promise<string>
  private resolveChallenge!: (c: string) => void
  private readonly notices: string[] = []

  private constructor(private readonly ws: WebSocket) {
    this.challenge = new Promise((resolve) => {
      this.resolveChallenge = resolve
    })
    ws.on('message', (data: Buffer) => {
      const frame = classifyFrame(data)
      if (frame.type === 'AUTH') this.resolveChallenge(frame.challenge)
      if (frame.type === 'NOTICE' && this.notices.length < 20) this.notices.push(frame.message)
      this.onFrame(frame)
    })
    ws.on('close', (code, reason) => {
      this.closedReason = `closed by the relay (${code}${reason.length ? ` ${reason}` : ''})`
      this.onClose(this.closedReason)
    })
    ws.on('error', () => {}) // 'close' follows and carries the story
  }

  /** Opens a socket; rejects after `timeoutMs` or on a refused connection. */
  static open(url: string, timeoutMs = 10_000): Promise<RelaySocket> {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      maxPayload: 64 * 1024 * 1024,
    })
    // Listeners go on before the handshake ends: the relay's AUTH may share its first packet.
    const socket = new RelaySocket(ws)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate()
        reject(new Error(`no WebSocket connection to ${url} within ${timeoutMs} ms`))
      }, timeoutMs)
      ws.once('open', () => {
        clearTimeout(timer)
        resolve(socket)
      })
      ws.once('error', (err) => {
        clearTimeout(timer)
        reject(new Error(`cannot connect to ${url}: ${err.message}`))
      })
    })
  }

  send(text: string): void {
    this.ws.send(text)
  }

  /** Bytes queued in the client, not yet written to the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  /** NOTICE messages seen (the first 20). */
  get noticesSeen(): readonly string[] {
    return this.notices
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate()
        resolve()
      }, 2000)
      this.ws.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      this.ws.close(1000)
    })
  }
}

/** Opens `n` sockets to `url` in parallel. */
export const openSockets = (url: string, n: number): Promise<RelaySocket[]> =>
  Promise.all(Array.from({ length: n }, () => RelaySocket.open(url)))
