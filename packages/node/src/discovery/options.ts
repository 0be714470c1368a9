// Discovery v5's options (docs/discovery.md).
import { option } from '../config/option.js'

export const discoveryOptions = option.section({
  enabled: option.boolean(
    true,
    'Announce this node on Discovery v5 (UDP) with an ENR carrying its federation id, services and WebSocket URL, and find the other nodes (docs/discovery.md).',
  ),
  udpPort: option.integer(0, {
    description:
      'UDP port for Discovery v5. 0: the same number as `port` (open TCP and UDP on one number), or a free port when `port` is 0.',
    min: 0,
  }),
  announceIp: option.string(
    '',
    "IP address the ENR announces. Empty: `host` when it is an IP address other than 0.0.0.0 or ::, else the address the node's peers report seeing (discv5 address votes).",
  ),
  bootnodes: option.strings(
    [],
    "ENRs (enr:…) of Discovery v5 nodes to start from, besides the federation's own nodes (their ENRs are read from GET /discovery at the URLs the manifest lists).",
  ),
  lookupIntervalSeconds: option.integer(30, {
    description:
      'How often the node refreshes its Discovery v5 table: reads the ENRs of the manifest nodes and runs a random lookup.',
    min: 1,
  }),
})
