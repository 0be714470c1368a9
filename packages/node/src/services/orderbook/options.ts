// The order book's options, merged into the node's configuration under `orderbook.`.
import { option } from '../../config/option.js'

export const orderbookOptions = option.section({
  enabled: option.boolean(
    false,
    'Run the order book service (NIP-69 P2P orders, kind 38383): makers submit orders over HTTP, the node publishes them signed by its key (docs/orderbook.md).',
  ),
  currencies: option.strings(
    ['EUR', 'USD'],
    "ISO 4217 codes the book takes orders in (the manifest's services.orderbook.currencies, when set, narrows them).",
  ),
  minSats: option.integer(20000, { description: 'Smallest trade, in satoshis.', min: 1 }),
  maxSats: option.integer(5000000, { description: 'Largest trade, in satoshis.', min: 1 }),
  makerFee: option.number(0.00025, {
    description:
      "The coordinator's fee on the maker, a share of the trade (0.00025 = 0.025 %), booked with the dev tax when the order is taken.",
    min: 0,
  }),
  takerFee: option.number(0.00175, {
    description: "The coordinator's fee on the taker, a share of the trade (0.00175 = 0.175 %).",
    min: 0,
  }),
  bondShare: option.number(0.03, {
    description:
      'The bond each party locks, a share of the trade (published in the terms and the bond tag).',
    min: 0,
  }),
  maxLifetimeSeconds: option.integer(86400, {
    description:
      'Longest time an order stays pending before it expires (a maker may ask for less).',
    min: 60,
  }),
  maxOrdersPerMaker: option.integer(10, {
    description: 'Pending orders one maker key may have on this node at once.',
    min: 1,
    restart: false,
  }),
  takeTimeoutSeconds: option.integer(900, {
    description:
      "How long a take waits for its maker's confirmation (POST /orderbook/orders/:id/confirm) before the order returns to the book and both parties are told.",
    min: 1,
    restart: false,
  }),
  maxOpenTakesPerKey: option.integer(2, {
    description:
      'Orders one taker key may hold in progress on this node at once; past it a take is refused (HANSA_ORDER_OPEN_TAKES).',
    min: 1,
    restart: false,
  }),
  network: option.string(
    'mainnet',
    'Bitcoin network of the trades (the network tag): mainnet, testnet, signet, regtest.',
  ),
  layers: option.strings(
    ['lightning'],
    'Settlement layers the book takes (the layer tag); the first is the default.',
  ),
  keepClosedSeconds: option.integer(86400, {
    description:
      "How long a closed order's last event (canceled, expired, success) stays before its NIP-40 expiration drops it.",
    min: 0,
  }),
})
