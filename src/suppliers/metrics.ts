import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface SupplierMetrics {
  callDuration: Histogram<'supplier' | 'operation' | 'outcome'>
  breakerState: Gauge<'supplier'>
  breakerTransitions: Counter<'supplier' | 'to'>
}

export const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const

export function createSupplierMetrics (registry: Registry): SupplierMetrics {
  return {
    callDuration: new Histogram({
      name: 'supplier_call_duration_seconds',
      help: 'Supplier calls by supplier instance, operation (purchase, query, balance) and outcome',
      labelNames: ['supplier', 'operation', 'outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry]
    }),
    breakerState: new Gauge({
      name: 'supplier_breaker_state',
      help: 'Circuit breaker per supplier instance in this process: 0 closed, 1 half-open, 2 open',
      labelNames: ['supplier'] as const,
      registers: [registry]
    }),
    breakerTransitions: new Counter({
      name: 'supplier_breaker_transitions_total',
      help: 'Circuit breaker state changes per supplier instance in this process',
      labelNames: ['supplier', 'to'] as const,
      registers: [registry]
    })
  }
}
