import type postgres from 'postgres'
import type { Registry } from 'prom-client'
import type { SupplierExecutor, BreakerObserver } from '../suppliers/executor.js'
import { createWebhookMetrics, type DeliveryObserver, type WebhookMetrics } from '../webhooks/metrics.js'
import { createAlerts, type Alerts } from './alerts.js'
import { checkSupplierBalances } from './balances.js'
import { createBreakerAlerts } from './breakers.js'
import { callbackAlerts } from './callbacks.js'
import { registerOpsMetrics } from './metrics.js'
import { checkLowStock } from './stock.js'

export interface OpsOptions {
  sql: postgres.Sql
  registry: Registry
  log: { info: (obj: object, msg: string) => void, warn: (obj: object, msg: string) => void }
  /** The supplier instances this process runs; read at each balance check. */
  suppliers: { loaded (): SupplierExecutor[] }
  supplierBalanceIntervalMs: number
  callbackAlertAttempts: number
  ordersMetricsWindowMs: number
}

/** Alerts and operational metrics of one process; the periodic checks run where WORKERS is on. */
export interface Ops {
  alerts: Alerts
  /** Polls supplier balances that are due (see checkSupplierBalances); returns how many were asked. */
  checkSupplierBalances (): Promise<number>
  /** Raises or clears `low_stock` for every watched SKU. */
  checkLowStock (): Promise<void>
  /** For SupplierRegistry: breaker transitions raise and clear `breaker_open`. */
  breakerObserver: BreakerObserver
  /** For the callback dispatcher: its counter and the `callback_failures` rule. */
  webhookMetrics: WebhookMetrics
  observeDelivery: DeliveryObserver
  /** Waits for alert writes still in flight (before the database closes). */
  drain (): Promise<void>
}

export function createOps (options: OpsOptions): Ops {
  const { sql, registry, log } = options
  const alerts = createAlerts({ sql, log, registry })
  const breakers = createBreakerAlerts(alerts, log)
  registerOpsMetrics(registry, sql, log, { ordersWindowMs: options.ordersMetricsWindowMs })
  return {
    alerts,
    checkSupplierBalances: async () => await checkSupplierBalances({ sql, suppliers: options.suppliers, alerts, intervalMs: options.supplierBalanceIntervalMs }),
    checkLowStock: async () => await checkLowStock(sql, alerts),
    breakerObserver: breakers.observe,
    webhookMetrics: createWebhookMetrics(registry),
    observeDelivery: callbackAlerts(alerts, options.callbackAlertAttempts),
    drain: breakers.drain
  }
}
