// The relay engine's options: the limits every connection and message is held to, and the
// accept/reject policy that runs before signatures are checked (event-policy.ts).
import { option } from '../config/option.js'

export const limitsOptions = option.section({
  maxMessageBytes: option.integer(262144, {
    description: 'Largest WebSocket message accepted.',
    min: 1024,
  }),
  maxContentBytes: option.integer(131072, {
    description: 'Largest event content, in bytes.',
    min: 0,
  }),
  maxEventTags: option.integer(2000, { description: 'Most tags on one event.', min: 0 }),
  maxSubscriptions: option.integer(20, {
    description: 'Open subscriptions per connection.',
    min: 1,
  }),
  maxFilters: option.integer(10, { description: 'Filters in one REQ or COUNT.', min: 1 }),
  maxFilterValues: option.integer(1000, {
    description: 'Values in one filter list (ids, authors, #p...).',
    min: 1,
  }),
  maxLimit: option.integer(500, { description: 'Most stored events one filter returns.', min: 1 }),
  defaultLimit: option.integer(100, {
    description: 'Events returned per filter when it sets no limit.',
    min: 1,
  }),
  maxFutureSeconds: option.integer(900, {
    description: 'How far in the future created_at may be before an event is refused.',
    min: 0,
  }),
  eventsPerSecond: option.number(100, {
    description:
      'Events one connection may publish per second (burst: twice this). An event costs one per started 2 KiB, so this is also a byte rate; past it OK false "rate-limited: …" and the connection is not read from for a second.',
    min: 0,
  }),
  eventsPerSecondPerIp: option.number(500, {
    description:
      'Events all connections from one IP address may publish per second (burst: twice this).',
    min: 0,
  }),
  maxConnectionsPerIp: option.integer(200, {
    description: 'Open WebSocket connections from one IP address.',
    min: 1,
  }),
  queriesPerSecond: option.number(20, {
    description:
      'REQ and COUNT filters per second per connection (a request costs one per filter and one per started hundred values; burst twice that); past it CLOSED "rate-limited: …" and the connection is not read from for a second. 0 for no limit.',
    min: 0,
  }),
  queriesPerSecondPerIp: option.number(200, {
    description:
      'REQ and COUNT filters per second from one IP address, all its connections together (costed as queriesPerSecond; burst twice that). 0 for no limit.',
    min: 0,
  }),
  maxQueriesInFlight: option.integer(4, {
    description:
      'Queries one connection may have being read at once; more wait their turn (up to limits.maxSubscriptions of them, then CLOSED "rate-limited: …").',
    min: 1,
  }),
  authPerSecond: option.number(2, {
    description: 'AUTH messages per second per connection (burst twice that). 0 for no limit.',
    min: 0,
  }),
  maxAuthKeys: option.integer(8, {
    description: 'Pubkeys one connection may authenticate as (NIP-42); more AUTH is refused.',
    min: 1,
  }),
  maxSendBufferBytes: option.integer(4 * 1024 * 1024, {
    description:
      'Bytes queued for a client that does not read before its subscriptions are closed (CLOSED "error: …"); at four times this the connection is closed. Stored results are sent in steps that stay within it.',
    min: 65536,
  }),
  maxSendBufferBytesPerIp: option.integer(32 * 1024 * 1024, {
    description:
      "Bytes queued for all connections from one address together: each connection's bound is this shared among them (never above limits.maxSendBufferBytes, never below 64 KiB), so many non-reading connections from one address cannot hold more than this.",
    min: 65536,
  }),
  maxBacklog: option.integer(1000, {
    description:
      'Live events one subscription may hold while its stored events are read; past it the subscription is closed (CLOSED "error: …").',
    min: 1,
  }),
  maxResultBytes: option.integer(16 * 1024 * 1024, {
    description:
      'Most bytes of stored events one REQ reads; a query stops there (EOSE follows), so one REQ cannot hold more memory.',
    min: 65536,
  }),
})

export const policyOptions = option.section({
  allowedPubkeys: option.strings([], {
    description: 'If not empty, only these authors may publish.',
    restart: false,
  }),
  deniedPubkeys: option.strings([], {
    description: 'Authors whose events are refused.',
    restart: false,
  }),
  allowedKinds: option.integers([], {
    description: 'If not empty, only these kinds are accepted.',
    restart: false,
  }),
  deniedKinds: option.integers([], { description: 'Kinds that are refused.', restart: false }),
})
