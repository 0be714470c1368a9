// Prometheus metrics, served at /metrics. One registry per node, so several nodes in one
// process (devnet, tests) keep separate counts.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry()
  if (options.defaultMetrics)
    collectDefaultMetrics({ register: registry, prefix: 'hansa_process_' })
  const registers = [registry]
  return {
    registry,
    connections: new Gauge({
      name: 'hansa_connections',
      help: 'Open WebSocket connections',
      registers,
    }),
    connectionsTotal: new Counter({
      name: 'hansa_connections_total',
      help: 'WebSocket connections accepted since start',
      registers,
    }),
    subscriptions: new Gauge({
      name: 'hansa_subscriptions',
      help: 'Open subscriptions (REQ)',
      registers,
    }),
    eventsReceived: new Counter({
      name: 'hansa_events_received_total',
      help: 'EVENT messages received',
      registers,
    }),
    eventsStored: new Counter({
      name: 'hansa_events_stored_total',
      help: 'Events committed to the store (or fanned out, for ephemeral kinds)',
      labelNames: ['kind_class'] as const,
      registers,
    }),
    eventsRefused: new Counter({
      name: 'hansa_events_refused_total',
      help: 'Events refused, by prefix and rule',
      labelNames: ['prefix', 'rule'] as const,
      registers,
    }),
    eventsDuplicate: new Counter({
      name: 'hansa_events_duplicate_total',
      help: 'Events already stored (answered OK true, duplicate:)',
      registers,
    }),
    storedBytes: new Gauge({
      name: 'hansa_stored_bytes',
      help: 'Bytes the event store occupies on disk',
      registers,
    }),
    storedEvents: new Gauge({
      name: 'hansa_stored_events',
      help: 'Events in the store',
      registers,
    }),
    queries: new Counter({
      name: 'hansa_queries_total',
      help: 'REQ and COUNT requests answered from the store',
      labelNames: ['verb'] as const,
      registers,
    }),
    queriesRefused: new Counter({
      name: 'hansa_queries_refused_total',
      help: 'REQ and COUNT requests refused, by prefix and rule',
      labelNames: ['prefix', 'rule'] as const,
      registers,
    }),
    querySeconds: new Histogram({
      name: 'hansa_query_duration_seconds',
      help: 'Time to answer a REQ or COUNT from the store',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    writeSeconds: new Histogram({
      name: 'hansa_write_batch_duration_seconds',
      help: 'Time to commit one batch of events',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    okSeconds: new Histogram({
      name: 'hansa_event_ok_duration_seconds',
      help: 'Time from receiving an EVENT to answering OK',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    notices: new Counter({
      name: 'hansa_notices_total',
      help: 'NOTICE messages sent, by rule',
      labelNames: ['rule'] as const,
      registers,
    }),
  }
}

export type NodeMetrics = ReturnType<typeof createMetrics>
