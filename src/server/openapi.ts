// The OpenAPI 3.1 document, generated from the routes as fastify registers them (their JSON schemas
// are the ones fastify validates with), so /openapi.json always matches what the service does.
import type { RouteOptions } from 'fastify';

interface RouteDoc { method: string; url: string; schema: Record<string, unknown>; summary?: string; consumes?: string; produces?: string; body?: unknown }

export class OpenApiCollector {
  private routes: RouteDoc[] = [];

  collect(r: RouteOptions): void {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const cfg = (r.config ?? {}) as { summary?: string; consumes?: string; produces?: string; hidden?: boolean; body?: unknown };
    if (cfg.hidden) return;
    for (const m of methods) {
      if (m === 'HEAD') continue;
      this.routes.push({ method: m.toLowerCase(), url: r.url, schema: (r.schema ?? {}) as Record<string, unknown>, summary: cfg.summary, consumes: cfg.consumes, produces: cfg.produces, body: cfg.body });
    }
  }

  document(info: { title: string; version: string }): unknown {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const r of this.routes) {
      const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      const params = r.schema.params as { properties?: Record<string, unknown>; required?: string[] } | undefined;
      const query = r.schema.querystring as { properties?: Record<string, unknown>; required?: string[] } | undefined;
      const parameters = [
        ...Object.entries(params?.properties ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
        ...Object.entries(query?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: !!query?.required?.includes(name), schema })),
      ];
      const responses: Record<string, unknown> = {};
      for (const [code, schema] of Object.entries((r.schema.response ?? {}) as Record<string, unknown>)) {
        responses[code] = { description: Number(code) < 400 ? 'success' : 'error', content: { [code === '200' && r.produces ? r.produces : 'application/json']: { schema } } };
      }
      if (Object.keys(responses).length === 0) responses['200'] = { description: 'success', content: { [r.produces ?? 'application/json']: {} } };
      const op: Record<string, unknown> = { summary: r.summary, operationId: `${r.method}${path.replace(/[^A-Za-z0-9]+/g, '_')}`, parameters, responses };
      const body = r.schema.body ?? r.body;
      if (body) op.requestBody = { required: true, content: { 'application/json': { schema: body } } };
      else if (r.consumes) op.requestBody = { required: true, content: { [r.consumes]: { schema: { type: 'object', description: 'multipart form: field "image" (file); optional fields as documented in the summary' } } } };
      (paths[path] ??= {})[r.method] = op;
    }
    return { openapi: '3.1.0', info, paths };
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** One line for the OpenAPI document. */
    summary?: string;
    /** Request content type when the body is not JSON (e.g. multipart/form-data). */
    consumes?: string;
    /** Response content type when it is not JSON. */
    produces?: string;
    /** Leave the route out of the OpenAPI document. */
    hidden?: boolean;
    /** The JSON body's schema, for a route that validates its body itself (raw body parsed off the event loop). */
    body?: unknown;
  }
}
