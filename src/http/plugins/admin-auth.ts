import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuditActor } from '../../db/repositories/audit-log.js'
import { findActiveToken, touchToken } from '../../db/repositories/admin-tokens.js'
import type { OperatorRole } from '../../db/schema/index.js'
import { GatewayError } from '../../errors/gateway-error.js'

export interface Operator {
  id: string
  name: string
  role: OperatorRole
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Operator roles allowed on an admin route; `admin` is always allowed. */
    roles?: OperatorRole[]
  }
  interface FastifyRequest {
    operator: Operator | null
  }
  interface FastifyInstance {
    /** Every admin route with the roles it admits, as registered. */
    adminRoutes: AdminRoute[]
  }
}

export interface AdminRoute {
  method: string
  url: string
  roles: OperatorRole[]
}

const BEARER = /^Bearer\s+(\S+)$/i

/**
 * Admin routes (`/admin/…`) must declare `config.roles`; a route that forgets is a
 * start-up error rather than a route open to every operator.
 */
export function registerAdminAuth (app: FastifyInstance): void {
  app.decorateRequest('operator', null)
  app.decorate('adminRoutes', [])

  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/admin/')) return
    const roles = route.config?.roles
    if (!roles) throw new Error(`admin route ${String(route.method)} ${route.url} declares no config.roles`)
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') app.adminRoutes.push({ method, url: route.url, roles: ['admin', ...roles] })
    }
  })

  app.addHook('onRequest', async (request) => {
    const roles = request.routeOptions.config.roles
    if (!roles) return
    const match = BEARER.exec(request.headers.authorization ?? '')
    const token = match?.[1]
    if (!token) throw new GatewayError('unauthorized', { detail: 'admin routes need authorization: Bearer adm_…' })
    if (!token.startsWith('adm_')) {
      throw new GatewayError('unauthorized', { detail: 'admin routes accept operator tokens (adm_…) only' })
    }
    const row = await findActiveToken(app.deps.database.db, token)
    if (!row) throw new GatewayError('unauthorized', { detail: 'unknown or revoked operator token' })
    request.operator = { id: row.id, name: row.name, role: row.role }
    if (row.role !== 'admin' && !roles.includes(row.role)) {
      throw new GatewayError('forbidden', { detail: `role ${row.role} may not call this route` })
    }
    touchToken(app.deps.database.db, row.id).catch((err: unknown) => request.log.warn({ err }, 'could not record token use'))
  })
}

/** Who is acting, for the audit log. Only valid on admin routes, after authentication. */
export function auditActor (request: FastifyRequest): AuditActor {
  if (!request.operator) throw new Error('auditActor called on a request without an operator')
  return { actorId: request.operator.id, actorRole: request.operator.role, requestId: String(request.id), ip: request.ip }
}
