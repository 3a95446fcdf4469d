import { bigint, customType, timestamp } from 'drizzle-orm/pg-core'

export const createdAt = () => timestamp('created_at', { withTimezone: true, precision: 6 }).notNull().defaultNow()
export const updatedAt = () => timestamp('updated_at', { withTimezone: true, precision: 6 }).notNull().defaultNow()
/** Money in integer minor units; `number` is exact up to 2^53, far beyond any order. */
export const amountMinor = (name: string) => bigint(name, { mode: 'number' })
export const bytea = customType<{ data: Buffer, driverData: Buffer }>({ dataType: () => 'bytea' })
