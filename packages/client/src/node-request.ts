// One HTTP call to a node's JSON API, shared by every API module of the SDK: the URL from a
// ws:// node URL, the JSON body, NIP-98 auth signed with the caller's key (nostr-tools' nip98,
// with the body's sha256 in the payload tag: the body sent is exactly the JSON that was
// hashed), a timeout, and a refusal turned into a NodeRequestError carrying the node's code.
import { HansaError, isHansaErrorCode } from '@hansa/protocol'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent } from 'nostr-tools/pure'

/** A node's refusal, or a node that could not be reached (HANSA_NODE_UNREACHABLE). */
export class NodeRequestError extends HansaError {
  override name = 'NodeRequestError'
  /** The HTTP status, or 0 when the node did not answer. */
  readonly status: number
  readonly url: string
  /** The code exactly as the node sent it (`code` is HANSA_NODE_ERROR when it is not catalogued). */
  readonly nodeCode: string
  constructor(code: string, status: number, url: string, message: string, cause?: unknown) {
    super(
      isHansaErrorCode(code) ? code : 'HANSA_NODE_ERROR',
      message,
      cause === undefined ? {} : { cause },
    )
    this.nodeCode = code
    this.status = status
    this.url = url
  }
}

export type NodeRequestOptions = {
  /** Milliseconds before a request is abandoned (default 10 000). */
  timeoutMs?: number
  /** Unix seconds for NIP-98 created_at (default: this machine's clock). */
  now?: () => number
}

export type NodeRequestInit = {
  method?: string
  body?: unknown
  secretKey?: Uint8Array
  /** More request headers (a node's setup token). */
  headers?: Record<string, string>
}

/** ws://host:port/path → http://host:port/path (wss → https); http(s) URLs unchanged. */
export function httpUrlOf(nodeUrl: string): string {
  return nodeUrl.replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/+$/, '')
}

export async function callNode<T>(
  nodeUrl: string,
  path: string,
  init: NodeRequestInit = {},
  options: NodeRequestOptions = {},
): Promise<T> {
  const url = `${httpUrlOf(nodeUrl)}${path}`
  const method = init.method ?? 'GET'
  const headers: Record<string, string> = { ...init.headers }
  let body: string | undefined
  if (init.body !== undefined) {
    body = JSON.stringify(init.body)
    headers['content-type'] = 'application/json'
  }
  if (init.secretKey !== undefined) {
    const key = init.secretKey
    const now = options.now
    headers.authorization = await getToken(
      url,
      method,
      (template) => finalizeEvent(now ? { ...template, created_at: now() } : template, key),
      true,
      init.body as Record<string, unknown> | undefined,
    )
  }
  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    })
  } catch (cause) {
    const reason =
      (cause as Error).name === 'TimeoutError'
        ? 'timed out'
        : String((cause as Error).cause ?? (cause as Error).message)
    throw new NodeRequestError(
      'HANSA_NODE_UNREACHABLE',
      0,
      url,
      `cannot reach ${url}: ${reason}`,
      cause,
    )
  }
  const json = (await response.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string } }
    | undefined
  if (!response.ok) {
    const code = json?.error?.code ?? 'HANSA_NODE_ERROR'
    const message = json?.error?.message ?? `${method} ${url} answered ${response.status}`
    throw new NodeRequestError(code, response.status, url, message)
  }
  if (json === undefined) {
    throw new NodeRequestError(
      'HANSA_NODE_ERROR',
      response.status,
      url,
      `${url} did not answer JSON: is this a Hansa node?`,
    )
  }
  return json as T
}
