// Who is calling, for the per-address limits. Behind a reverse proxy every client arrives from
// the proxy's address, so the limits would put them all in one budget; `X-Forwarded-For` names
// the client, but anyone can send that header. It is believed only when the socket's address is
// in `trustedProxies` (addresses or CIDR ranges), walking the header from the right past each
// trusted hop (@fastify/proxy-addr, the rule Fastify's own `trustProxy` applies to request.ip).
//
// An IPv6 client usually holds a whole /64 and can change its address within it at will, so
// the limits count IPv6 addresses by their /64 (an IPv4-mapped IPv6 address is its IPv4 one).
import type { IncomingMessage } from 'node:http'
import proxyaddr from '@fastify/proxy-addr'
import ipaddr from 'ipaddr.js'

/** The caller's address: X-Forwarded-For's client when the socket is a trusted proxy. */
export function clientAddressOf(
  trustedProxies: readonly string[],
): (request: IncomingMessage) => string {
  if (trustedProxies.length === 0) return (request) => request.socket.remoteAddress ?? 'unknown'
  const trust = proxyaddr.compile([...trustedProxies])
  return (request) => proxyaddr(request, trust)
}

/**
 * The key a per-address limit counts under: an IPv4 address as it is, an IPv6 address's /64
 * (`2001:db8:1:2::/64`), anything unparseable as given.
 */
export function limitKey(address: string): string {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    parsed = ipaddr.process(address) // IPv4-mapped IPv6 becomes its IPv4 address
  } catch {
    return address
  }
  if (parsed.kind() === 'ipv4') return parsed.toString()
  const prefix = (parsed as ipaddr.IPv6).parts.slice(0, 4)
  return `${new ipaddr.IPv6([...prefix, 0, 0, 0, 0]).toString()}/64`
}

/** Checks a trustedProxies list: each entry an address or a CIDR range (or proxy-addr's names). */
export function trustedProxiesIssue(list: readonly string[]): string | undefined {
  const named = new Set(['loopback', 'linklocal', 'uniquelocal'])
  for (const entry of list) {
    if (named.has(entry) || ipaddr.isValid(entry) || ipaddr.isValidCIDR(entry)) continue
    return `trustedProxies: ${JSON.stringify(entry)} is neither an address nor a CIDR range`
  }
  return undefined
}
