import { z } from 'zod';
import { ConfigError } from '../config.js';
import { defineRoute, registerRoutes } from '../http/route.js';
import { healthReport } from '../health.js';

export const healthSchema = z.looseObject({
  status: z.enum(['ok', 'degraded', 'unhealthy']),
  model: z.object({
    provider: z.enum(['azure', 'openai', 'none']),
    chatModel: z.string().nullable(),
    embeddingModel: z.string().nullable(),
  }),
  storage: z.object({ ok: z.boolean() }),
  search: z.object({ backend: z.enum(['azure', 'local']), documents: z.number().int().nullable() }),
  problems: z.array(z.string()).optional(),
});

/** When the settings cannot even be parsed, health names the problem and says unhealthy, so probes act on it. */
const unhealthySchema = z.object({ status: z.literal('unhealthy'), problems: z.array(z.string()) });

export const healthRoute = defineRoute({
  name: 'health',
  method: 'GET',
  route: 'health',
  tags: ['operations'],
  summary: 'Configuration and dependency status (never secrets)',
  checksSettings: false,
  responses: {
    200: { description: 'ok or degraded (an optional part is missing)', content: { 'application/json': healthSchema } },
    503: {
      description: 'unhealthy: a setting is invalid, or storage cannot be used',
      content: { 'application/json': z.union([healthSchema, unhealthySchema]) },
    },
  },
  handler: async () => {
    try {
      const report = await healthReport();
      return { status: report.status === 'unhealthy' ? 503 : 200, jsonBody: report };
    } catch (error: unknown) {
      if (!(error instanceof ConfigError)) throw error;
      return { status: 503, jsonBody: { status: 'unhealthy', problems: [error.message] } };
    }
  },
});

registerRoutes([healthRoute]);
