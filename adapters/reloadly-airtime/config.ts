/** Airtime instances take the shared Reloadly credentials (api.md, supplier instances). */
export { ReloadlyConfigSchema as ReloadlyAirtimeConfigSchema, type ReloadlyConfig as ReloadlyAirtimeConfig } from '../reloadly/config.js'
