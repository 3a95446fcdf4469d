import type { FastifyInstance } from 'fastify'
import listAlerts from './admin/alerts/list-alerts.js'
import auditLog from './admin/audit-log/list-audit-log.js'
import getStock from './admin/card-keys/get-stock.js'
import importCardKeys from './admin/card-keys/import-card-keys.js'
import lookupCardKey from './admin/card-keys/lookup-card-key.js'
import revealCardKey from './admin/card-keys/reveal-card-key.js'
import voidCardKey from './admin/card-keys/void-card-key.js'
import createOperatorToken from './admin/operator-tokens/create-operator-token.js'
import listOperatorTokens from './admin/operator-tokens/list-operator-tokens.js'
import revokeOperatorToken from './admin/operator-tokens/revoke-operator-token.js'
import createSku from './admin/skus/create-sku.js'
import getSku from './admin/skus/get-sku.js'
import listSkus from './admin/skus/list-skus.js'
import putFulfilment from './admin/skus/put-fulfilment.js'
import replaceSku from './admin/skus/replace-sku.js'
import createSupplier from './admin/suppliers/create-supplier.js'
import getSupplier from './admin/suppliers/get-supplier.js'
import listSuppliers from './admin/suppliers/list-suppliers.js'
import patchSupplier from './admin/suppliers/patch-supplier.js'
import getTierPrices from './admin/tiers/get-tier-prices.js'
import putTierPrices from './admin/tiers/put-tier-prices.js'
import supplierCallback from './callbacks/supplier-callback.js'
import health from './health.js'
import adminWebhooks from './admin/webhook-events/webhook-events.js'
import webhookEvents from './v1/webhook-events/webhook-events.js'
import adminOrders from './admin/orders/admin-orders.js'
import approveOrder from './admin/orders/approve-order.js'
import rejectOrder from './admin/orders/reject-order.js'
import createRiskRule from './admin/risk-rules/create-risk-rule.js'
import deleteRiskRule from './admin/risk-rules/delete-risk-rule.js'
import getRiskRule from './admin/risk-rules/get-risk-rule.js'
import listRiskRules from './admin/risk-rules/list-risk-rules.js'
import patchRiskRule from './admin/risk-rules/patch-risk-rule.js'
import apiKeys from './admin/resellers/api-keys.js'
import createReseller from './admin/resellers/create-reseller.js'
import getReseller from './admin/resellers/get-reseller.js'
import listResellers from './admin/resellers/list-resellers.js'
import resellerMoney from './admin/resellers/money.js'
import patchReseller from './admin/resellers/patch-reseller.js'
import resellerStatement from './admin/resellers/statement.js'
import reconciliation from './admin/reports/reconciliation.js'
import settlement from './admin/reports/settlement.js'
import getBalance from './v1/balance/get-balance.js'
import listLedger from './v1/balance/list-ledger.js'
import getStatement from './v1/balance/get-statement.js'
import createOrder from './v1/orders/create-order.js'
import getOrder from './v1/orders/get-order.js'
import listOrders from './v1/orders/list-orders.js'
import getProduct from './v1/products/get-product.js'
import listProducts from './v1/products/list-products.js'

/** The table of contents of the API: every route, registered explicitly and in order. */
export async function registerRoutes (app: FastifyInstance): Promise<void> {
  await app.register(health)

  await app.register(listProducts)
  await app.register(getProduct)
  await app.register(createOrder)
  await app.register(getOrder)
  await app.register(listOrders)
  await app.register(getBalance)
  await app.register(listLedger)
  await app.register(getStatement)
  await app.register(webhookEvents)

  await app.register(createSku)
  await app.register(listSkus)
  await app.register(getSku)
  await app.register(replaceSku)
  await app.register(putFulfilment)
  await app.register(putTierPrices)
  await app.register(getTierPrices)

  await app.register(createSupplier)
  await app.register(listSuppliers)
  await app.register(getSupplier)
  await app.register(patchSupplier)

  await app.register(importCardKeys)
  await app.register(getStock)
  await app.register(lookupCardKey)
  await app.register(voidCardKey)
  await app.register(revealCardKey)

  await app.register(createOperatorToken)
  await app.register(listOperatorTokens)
  await app.register(revokeOperatorToken)
  await app.register(createReseller)
  await app.register(listResellers)
  await app.register(getReseller)
  await app.register(patchReseller)
  await app.register(apiKeys)
  await app.register(resellerMoney)
  await app.register(resellerStatement)
  await app.register(adminOrders)
  await app.register(approveOrder)
  await app.register(rejectOrder)
  await app.register(adminWebhooks)

  await app.register(createRiskRule)
  await app.register(listRiskRules)
  await app.register(getRiskRule)
  await app.register(patchRiskRule)
  await app.register(deleteRiskRule)

  await app.register(settlement)
  await app.register(reconciliation)

  await app.register(auditLog)
  await app.register(listAlerts)

  await app.register(supplierCallback)
}
