// Paid access's options: the unit and rail of payments, the dev tax, and the prices of the
// subscription and metered modes (a service's own `access` option picks the mode).
import { lit, option } from '../config/option.js'
import { evmOptions } from './rails/evm-options.js'

export const billingOptions = option.section({
  unit: option.string(
    'msat',
    'Unit of every price, payment and balance (amounts are whole base units of it).',
  ),
  rail: option.choice(
    [lit('ledger'), lit('evm'), lit('lightning')],
    'ledger',
    'Settlement rail: ledger (cheques credited on trust, never cashed) or evm (subscriptions paid by transaction through the PaymentRouter, cheques cashed on chain in hard mode; billing.evm.*). lightning is planned.',
  ),
  chainId: option.integer(31337, {
    description: 'EIP-712 chain id of the cheques this node takes.',
    min: 1,
  }),
  devTaxRate: option.number(0.2, {
    description:
      "Share of every payment booked as dev tax for the dev fund (0 to 1; 0 allowed), shown to users in the terms. The default is the manifest's suggested rate.",
    min: 0,
  }),
  devFundRecipient: option.string(
    '',
    "The dev fund's address or pubkey, shown in the terms (empty: not stated).",
  ),
  adminPubkeys: option.strings([], {
    description:
      'Pubkeys, besides the node key, that may read the books (GET /billing) and book dev tax paid.',
    restart: false,
  }),
  subscription: option.section({
    price: option.integer(30000, {
      description: 'Subscription: price of one period, in base units of billing.unit.',
      min: 1,
    }),
    periodDays: option.number(30, {
      description: 'Subscription: length of one period, in days.',
      min: 0,
    }),
    maxPeriods: option.integer(12, {
      description: 'Subscription: most periods one payment buys.',
      min: 1,
    }),
    maxPubkeys: option.integer(10, {
      description: "Subscription: most pubkeys (the owner's app keys) one subscription covers.",
      min: 1,
    }),
  }),
  metered: option.section({
    queryPrice: option.integer(10, {
      description: 'Metered: price of a REQ or COUNT answered.',
      min: 0,
    }),
    eventPrice: option.integer(20, { description: 'Metered: price of an event stored.', min: 0 }),
    kilobytePrice: option.integer(5, {
      description: 'Metered: price per 1024 bytes of events stored or served (rounded up).',
      min: 0,
    }),
    paymentThreshold: option.integer(10000, {
      description: 'Metered: a client pays with a cheque once it owes this much.',
      min: 1,
    }),
    disconnectThreshold: option.integer(0, {
      description:
        'Metered: a client owing more than this is refused (payment-required:). 0: the payment threshold plus 25 %.',
      min: 0,
    }),
    maxCreditAhead: option.integer(0, {
      description:
        'Metered, ledger rail: the most a client may pay ahead with cheques (credit beyond what it owes); a cheque rising further is refused (HANSA_CHEQUE_AHEAD). Ledger cheques are IOUs nobody cashes, so without a cap one cheque for 2^256-1 would buy unlimited service. 0: ten times the payment threshold.',
      min: 0,
    }),
    swap: option.choice(
      [lit('soft'), lit('mock'), lit('hard')],
      'mock',
      'Metered: soft (account and log, never refuse), mock (cheques checked and credited, never cashed; refuse past the disconnect threshold) or hard (cashed on chain: needs the evm rail).',
    ),
  }),
  evm: evmOptions,
})
