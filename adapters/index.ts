import type { AdapterFactory } from '../src/domain/supplier.js'
import { fuluFactory } from './fulu/index.js'
import { kashangwlFactory } from './kashangwl/index.js'
import { reloadlyAirtimeFactory } from './reloadly-airtime/index.js'
import { reloadlyGiftcardsFactory } from './reloadly-giftcards/index.js'

/** Every adapter the gateway can run, by the name supplier instances give in `adapter`. */
export const ADAPTERS: Readonly<Record<string, AdapterFactory<any>>> = {
  fulu: fuluFactory,
  kashangwl: kashangwlFactory,
  'reloadly-airtime': reloadlyAirtimeFactory,
  'reloadly-giftcards': reloadlyGiftcardsFactory
}

export const ADAPTER_NAMES = Object.keys(ADAPTERS)
