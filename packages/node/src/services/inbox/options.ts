// The inbox's options, merged into the node's configuration under `inbox.`.
import { lit, option } from '../../config/option.js'

export const inboxOptions = option.section({
  enabled: option.boolean(true, 'Run the inbox service (NIP-17 gift wraps, kind 1059).'),
  retentionDays: option.number(30, {
    description: 'Days a gift wrap is kept after the node received it; then it is pruned.',
    min: 0,
    restart: false,
  }),
  access: option.choice(
    [lit('free'), lit('subscription'), lit('metered')],
    'free',
    'Who may use the inbox: free (anyone), subscription (mail accepted for and served to subscribers only, billing.subscription.*) or metered (each stored gift wrap and mail query charged to the connection, billing.metered.*). Also: hansa node start --inbox-access.',
  ),
})
