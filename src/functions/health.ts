import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { describeRoute } from '../http/openapi.js';
import { withErrors } from '../http/respond.js';
import { healthReport } from '../health.js';

export async function health(_request: HttpRequest): Promise<HttpResponseInit> {
  const report = await healthReport();
  // 503 when unhealthy, so Azure's health check and load balancers can act on it (API.md § Health).
  return { status: report.status === 'unhealthy' ? 503 : 200, jsonBody: report };
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'function', handler: withErrors(health) });

describeRoute({ method: 'GET', path: '/health', summary: 'Configuration and dependency status (never secrets)', responses: { 200: 'status' } });
