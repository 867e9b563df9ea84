/** Reported in the OpenAPI document; kept in step with package.json by a test. */
export const appVersion = '0.1.0';
