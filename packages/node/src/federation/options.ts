// The federation's options: which federation to join, and how the manifest is pulled from peers.
import { option } from '../config/option.js'

export const federationOptions = option.section({
  inviteCode: option.string(
    '',
    "Join this federation: an invite code (hansa1…). At start the node fetches the manifest chain from the code's node URLs and verifies it against the code's federation id; it will never adopt another federation. Empty: standalone until a genesis is posted to it.",
  ),
  chainFile: option.string(
    '',
    "A manifest chain file (JSON array of signed manifests, oldest first) to adopt at start. Its genesis must hash to the invite code's federation id when both are set.",
  ),
  adminPubkeys: option.strings([], {
    description:
      'Keys (hex) besides the node key whose NIP-98 requests may make this standalone node adopt a federation (a genesis draft or chain). Put the drafting guardian here, or use the setup token.',
    restart: false,
  }),
  setupToken: option.string(
    '',
    'The one-time setup token a standalone node accepts (Hansa-Setup-Token header) for the genesis at the ceremony. Empty: a random one, printed at start. Spent by its first use.',
  ),
  peers: option.strings([], {
    description:
      'More node URLs (ws://, wss://, http:// or https://) to pull the manifest from, beyond the nodes the manifest lists.',
    restart: false,
  }),
  syncIntervalSeconds: option.integer(30, {
    description:
      'How often the node pulls the manifest and pending proposals from its peers (and pushes to those behind).',
    min: 1,
  }),
})
