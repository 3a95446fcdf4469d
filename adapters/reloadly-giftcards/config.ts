/** Gift-card instances take the shared Reloadly credentials (api.md, supplier instances). */
export { ReloadlyConfigSchema as ReloadlyGiftcardsConfigSchema, type ReloadlyConfig as ReloadlyGiftcardsConfig } from '../reloadly/config.js'
