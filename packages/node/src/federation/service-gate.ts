// "Services the manifest does not list stay off": every service the configuration turns on is
// registered once at start, behind a gate that asks the federation, at each event and request,
// whether the service is on (standalone: always; member: if its manifest entry lists it;
// not a member: never). A newly adopted manifest therefore turns services on and off without a
// restart. While a service is off, its onEvent/onReq hooks are skipped and events and requests
// of the kinds it owns (its private kinds, e.g. the inbox's gift wraps) are refused with
// `restricted:`; its private kinds stay private, so nothing it stored leaks. onConnect, onAuth
// and onClose always run, so a service's per-connection bookkeeping stays consistent.
import type { Filter } from '@hansa/protocol'
import { refuse } from '../relay/refusal.js'
import type { Relay } from '../relay/relay.js'
import type { Hooks, HookName, ServiceContext } from '../services/service.js'

export type ServiceGate = {
  /** The context to hand a service's register(): its hooks only run while it is on. */
  contextFor<O>(name: string, ctx: ServiceContext<O>): ServiceContext<O>
  /** Records the kinds a service owns (its private kinds): refused while it is off. */
  ownKinds(name: string, kinds: readonly number[]): void
}

/**
 * Installs the gate's own hooks on the relay (call before registering services, so they run
 * first) and returns the gate. `active()` names the services on now; `why()` says why a
 * service is off.
 */
export function createServiceGate(
  relay: Pick<Relay, 'addHook'>,
  active: () => readonly string[],
  why: () => string,
): ServiceGate {
  const kindsOf = new Map<string, Set<number>>()
  const offFor = (kinds: (kind: number) => boolean): string | undefined => {
    const on = new Set(active())
    for (const [name, owned] of kindsOf) {
      if (on.has(name)) continue
      for (const kind of owned) if (kinds(kind)) return name
    }
    return undefined
  }
  relay.addHook('onEvent', (event) => {
    const off = offFor((kind) => kind === event.kind)
    if (off === undefined) return undefined
    return refuse('restricted', 'service-off', `service "${off}" is off on this node: ${why()}`)
  })
  relay.addHook('onReq', (filters: readonly Filter[]) => {
    const off = offFor((kind) => filters.some((f) => f.kinds?.includes(kind) ?? false))
    if (off === undefined) return undefined
    return refuse('restricted', 'service-off', `service "${off}" is off on this node: ${why()}`)
  })
  return {
    ownKinds(name, kinds) {
      const owned = kindsOf.get(name) ?? new Set<number>()
      for (const k of kinds) owned.add(k)
      kindsOf.set(name, owned)
    },
    contextFor(name, ctx) {
      const isOn = () => active().includes(name)
      return {
        ...ctx,
        addHook<K extends HookName>(hook: K, fn: Hooks[K]) {
          if (hook === 'onEvent' || hook === 'onReq') {
            const gated = ((...args: unknown[]) =>
              isOn() ? (fn as (...a: unknown[]) => unknown)(...args) : undefined) as Hooks[K]
            ctx.addHook(hook, gated)
          } else ctx.addHook(hook, fn)
        },
      }
    },
  }
}
