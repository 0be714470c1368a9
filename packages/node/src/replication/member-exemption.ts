// Paid access does not apply between member nodes (docs/replication.md, "Paid nodes"): holding
// the federation's shared events is a duty of membership, so the billing hooks stand aside for
// a connection authenticated as a member node — its pushes are not charged to the recipients'
// subscriptions, its reads for replication are not metered. Users still meet each node's own
// terms when they read from it.
import type { ConnectionInfo } from '../relay/connection.js'
import type { HookName, Hooks } from '../services/service.js'

export function exemptMemberNodes<K extends HookName>(
  name: K,
  fn: Hooks[K],
  isMember: (conn: ConnectionInfo) => boolean,
): Hooks[K] {
  switch (name) {
    case 'onEvent': {
      const hook = fn as Hooks['onEvent']
      const wrapped: Hooks['onEvent'] = (event, conn) =>
        isMember(conn) ? undefined : hook(event, conn)
      return wrapped as Hooks[K]
    }
    case 'onReq': {
      const hook = fn as Hooks['onReq']
      const wrapped: Hooks['onReq'] = (filters, conn, verb) =>
        isMember(conn) ? undefined : hook(filters, conn, verb)
      return wrapped as Hooks[K]
    }
    case 'onDeliver': {
      const hook = fn as Hooks['onDeliver']
      const wrapped: Hooks['onDeliver'] = (event, conn) =>
        isMember(conn) ? undefined : hook(event, conn)
      return wrapped as Hooks[K]
    }
    case 'onServed': {
      const hook = fn as Hooks['onServed']
      const wrapped: Hooks['onServed'] = (served, conn) => {
        if (!isMember(conn)) hook(served, conn)
      }
      return wrapped as Hooks[K]
    }
    default:
      return fn
  }
}
