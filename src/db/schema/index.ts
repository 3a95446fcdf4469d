export * from './operators.js'
export * from './audit-log.js'
export * from './skus.js'
export * from './tier-prices.js'
