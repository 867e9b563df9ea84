import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ignore from 'ignore';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config.js';
import {
  bicepFiles,
  modules,
  objectProperties,
  outputs,
  parameters,
  parseBicep,
  property,
  readBicep,
  renderString,
  resourcesOfType,
  stringValue,
  syntaxProblems,
  variable,
  type BicepFile,
  type Resource,
} from './support/bicep.js';

// Offline checks of the azd deployment: no Bicep compiler or azd runs here, so what they would catch
// first (syntax, undeclared parameters, missing settings, wrong role ids) is checked from the files.

const root = path.resolve(__dirname, '..');
const infra = path.join(root, 'infra');
const main = readBicep(path.join(infra, 'main.bicep'));
const functionApp = readBicep(path.join(infra, 'app', 'function.bicep'));

function only(bicep: BicepFile, type: string): Resource {
  const found = resourcesOfType(bicep, type);
  expect(found, `${bicep.file}: one ${type}`).toHaveLength(1);
  return found[0]!;
}

function text(resource: Resource, dottedPath: string): string | undefined {
  return property(resource.body, dottedPath)?.text;
}

/** Each dotted path of the resource holds exactly this Bicep source text. */
function expectSource(resource: Resource, expected: Record<string, string>): void {
  for (const [dottedPath, source] of Object.entries(expected)) expect(text(resource, dottedPath), `${resource.symbol}.${dottedPath}`).toBe(source);
}

function defaultOf(bicep: BicepFile, name: string): string | undefined {
  return stringValue(parameters(bicep).find((parameter) => parameter.name === name)?.defaultValue);
}

describe('Bicep syntax', () => {
  it('finds the syntax errors it is meant to catch', () => {
    expect(syntaxProblems(parseBicep("resource s 'x@1' = {\n  name: \n}\n"))).not.toEqual([]);
    expect(syntaxProblems(parseBicep("param p string = 'a'\noutput o string = p\n"))).toEqual([]);
  });

  it.each(bicepFiles(infra).map((file) => path.relative(root, file)))('%s parses without errors', (file) => {
    expect(syntaxProblems(readBicep(path.join(root, file)))).toEqual([]);
  });
});

describe('Bicep wiring', () => {
  it('main.parameters.json only sets parameters main.bicep declares, and sets every one without a default', () => {
    const file = JSON.parse(readFileSync(path.join(infra, 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: unknown }> };
    const declared = parameters(main);
    expect(Object.keys(file.parameters).filter((name) => !declared.some((parameter) => parameter.name === name))).toEqual([]);
    const required = declared.filter((parameter) => parameter.defaultValue == null).map((parameter) => parameter.name);
    expect(required.filter((name) => !(name in file.parameters))).toEqual([]);
    for (const [name, { value }] of Object.entries(file.parameters)) {
      expect(String(value), name).toMatch(/^\$\{[A-Z_]+(=[^${}]*)?\}$/);
    }
    expect(file.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(file.parameters.location?.value).toBe('${AZURE_LOCATION}');
    expect(file.parameters.principalId?.value).toBe('${AZURE_PRINCIPAL_ID}');
  });

  it('every module exists, gets only parameters it declares, and every one it requires', () => {
    const used = modules(main);
    expect(used.length).toBeGreaterThan(0);
    for (const module of used) {
      const target = readBicep(path.join(infra, module.path));
      const declared = parameters(target);
      const passed = [...module.params.keys()];
      expect(passed.filter((name) => !declared.some((parameter) => parameter.name === name)), `${module.path}: unknown params`).toEqual([]);
      const required = declared.filter((parameter) => parameter.defaultValue == null).map((parameter) => parameter.name);
      expect(required.filter((name) => !module.params.has(name)), `${module.path}: missing params`).toEqual([]);
      // module.outputs.x used in main.bicep must be declared by that module
      const referenced = [...readFileSync(main.file, 'utf8').matchAll(new RegExp(`\\b${module.symbol}\\.outputs\\.(\\w+)`, 'g'))].map((match) => match[1]);
      expect(referenced.filter((name) => !outputs(target).includes(name!)), `${module.path}: unknown outputs`).toEqual([]);
    }
  });

  it('outputs what the hooks and local runs need', () => {
    expect(outputs(main)).toEqual(
      expect.arrayContaining([
        'AZURE_OPENAI_ENDPOINT', 'AZURE_SEARCH_ENDPOINT', 'AZURE_SEARCH_INDEX', 'AZURE_STORAGE_ACCOUNT_NAME',
        'AZURE_FUNCTION_APP_NAME', 'CHAT_MODEL_DEPLOYMENT_NAME', 'EMBEDDING_MODEL_DEPLOYMENT_NAME', 'CHAT_TABLE_NAME',
        'AZURE_RESOURCE_GROUP', 'AZURE_TENANT_ID',
      ]),
    );
  });
});

// Settings the app reads (src/config.ts) that Azure deliberately leaves unset, and why.
const notSetInAzure: Record<string, string> = {
  AZURE_OPENAI_API_KEY: 'keyless: the account has local auth disabled',
  AZURE_OPENAI_API_VERSION: 'the app default is a current GA version',
  OPENAI_API_KEY: 'Azure OpenAI is used',
  OPENAI_BASE_URL: 'Azure OpenAI is used',
  CHAT_STORAGE_CONNECTION: 'chats use AzureWebJobsStorage (the default)',
  AZURE_SEARCH_API_KEY: 'keyless: the search service has local auth disabled',
  HOST: 'local host only: the address it listens on; Azure serves HTTP itself',
  CHAT_HISTORY_TOKENS: 'app default',
  MAX_OUTPUT_TOKENS: 'app default',
  MODEL_CONTEXT_TOKENS: 'app default',
  CHAT_MAX_TOOL_ROUNDS: 'app default',
  CHAT_TOOL_TIMEOUT_MS: 'app default',
  CHAT_TODO_TABLE_NAME: 'app default: ChatStateTodos beside the chat table, created on first use',
  MODEL_TIMEOUT_MS: 'app default',
  REQUEST_DEADLINE_MS: 'app default (under the 230 s the platform allows)',
  MODEL_MAX_RETRIES: 'app default',
  MAX_BODY_BYTES: 'app default',
  MAX_IMAGE_BYTES: 'app default',
  MAX_IMAGES: 'app default',
  TRUST_CLIENT_PRINCIPAL: 'only behind App Service authentication, which this template does not configure',
  MAX_DOCUMENT_BYTES: 'app default',
  MAX_DOCUMENT_PAGES: 'app default',
  MAX_DOCUMENT_TEXT_CHARS: 'app default',
  REQUIRE_ACCESS_CONTROL: 'needs per-user access lists in the index and App Service authentication, which this template does not configure',
  RAG_SYSTEM_PROMPT: 'app default: a generic prompt for your documents',
  MODEL_REASONING: 'app default (auto: detected from the model name and the provider\'s answer)',
  MODEL_REASONING_EFFORT: 'app default (the provider\'s)',
  CONTENT_CONTAINER: 'the app default is the `content` container the Bicep creates',
  INGEST_SAMPLE_DATA: 'local host only: Azure uses AI Search, filled by the postdeploy hook',
  PORT: 'local host only',
};

/** The names in config.ts's environment schema: every setting the app reads by name. */
function settingsTheAppReads(): string[] {
  const source = readFileSync(path.join(root, 'src', 'config.ts'), 'utf8');
  const schema = /const environmentSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(source)?.[1];
  if (schema == null) throw new Error('src/config.ts: environmentSchema not found');
  return [...schema.matchAll(/^\s+([A-Za-z][A-Za-z0-9_]*):/gm)].map((match) => match[1]!);
}

function appSettings(): Map<string, string> {
  const config = only(functionApp, 'Microsoft.Web/sites/config');
  expect(text(config, 'name')).toBe("'appsettings'");
  const values = property(config.body, 'properties');
  if (values == null) throw new Error('app settings without properties');
  // Expressions stand in for their runtime values; literals keep their value.
  return new Map([...objectProperties(values)].map(([name, node]) => [name, renderString(node) ?? `<${node.text}>`]));
}

describe('app settings', () => {
  const settings = appSettings();

  it('set or deliberately leave unset every setting the app reads', () => {
    const read = settingsTheAppReads();
    expect(read.length).toBeGreaterThan(10);
    const undecided = read.filter((name) => !settings.has(name) && !(name in notSetInAzure));
    expect(undecided, 'settings src/config.ts reads that infra/app/function.bicep neither sets nor lists in notSetInAzure').toEqual([]);
    expect(Object.keys(notSetInAzure).filter((name) => settings.has(name))).toEqual([]);
  });

  it('contain only settings the app or the platform reads', () => {
    const read = settingsTheAppReads();
    const source = readFileSync(path.join(root, 'src', 'config.ts'), 'utf8');
    const unknown = [...settings.keys()].filter((name) => {
      if (read.includes(name) || name.startsWith('APPLICATIONINSIGHTS_')) return false;
      const suffix = /^AzureWebJobsStorage(__\w+)$/.exec(name)?.[1];
      return suffix == null || !source.includes(`\`\${settingName}${suffix}\``);
    });
    expect(unknown).toEqual([]);
  });

  it('give the app a keyless Azure configuration', () => {
    // Bicep expressions stand in for values only a deployment knows; the app validates names and URLs with the
    // rules of their service, so give it values of the shape Azure fills in.
    const deployed: Record<string, string> = {
      '<openAiEndpoint>': 'https://ai-abc.openai.azure.com/',
      '<searchEndpoint>': 'https://srch-abc.search.windows.net',
      '<chatTableName>': 'ChatState',
      '<searchIndexName>': 'gptkbindex',
    };
    const config = loadConfig(Object.fromEntries([...settings].map(([name, value]) => [name, deployed[value] ?? value])));
    expect(config.model).toMatchObject({ kind: 'azure', apiKey: undefined, clientId: '<identityClientId>' });
    expect(config.chatModel).toBe('<chatDeploymentName>');
    expect(config.embeddingModel).toBe('<embeddingDeploymentName>');
    expect(config.storage).toMatchObject({ connectionString: undefined, accountName: '<storage.name>', credential: 'managedidentity', clientId: '<identityClientId>' });
    expect(config.chatStorage).toEqual(config.storage);
    expect(config.search).toMatchObject({ endpoint: 'https://srch-abc.search.windows.net', index: 'gptkbindex', apiKey: undefined });
    expect(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe('Authorization=AAD;ClientId=<identityClientId>');
    expect(settings.has('APPLICATIONINSIGHTS_CONNECTION_STRING')).toBe(true);
  });

  it('contain nothing Flex Consumption rejects, and no secret', () => {
    const rejected = [
      'FUNCTIONS_EXTENSION_VERSION', 'FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_WORKER_RUNTIME_VERSION', 'FUNCTIONS_MAX_HTTP_CONCURRENCY',
      'FUNCTIONS_WORKER_PROCESS_COUNT', 'FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED', 'SCM_DO_BUILD_DURING_DEPLOYMENT',
      'ENABLE_ORYX_BUILD', 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', 'WEBSITE_CONTENTSHARE', 'WEBSITE_CONTENTOVERVNET',
      'WEBSITE_NODE_DEFAULT_VERSION', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_SKIP_CONTENTSHARE_VALIDATION', 'WEBSITE_VNET_ROUTE_ALL',
      'APPINSIGHTS_INSTRUMENTATIONKEY',
    ];
    const everywhere = bicepFiles(infra).map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(rejected.filter((name) => everywhere.includes(name))).toEqual([]);
    expect([...settings.keys()].filter((name) => /KEY|SECRET|PASSWORD/i.test(name))).toEqual([]);
    expect(everywhere).not.toMatch(/listKeys|AccountKey=|linuxFxVersion/i);
  });
});

describe('resources', () => {
  it('Flex Consumption: FC1 Linux plan, Node runtime in functionAppConfig, identity-authenticated deployment', () => {
    expectSource(only(functionApp, 'Microsoft.Web/serverfarms'), { 'sku.tier': "'FlexConsumption'", 'sku.name': "'FC1'", 'properties.reserved': 'true' });
    const site = only(functionApp, 'Microsoft.Web/sites');
    expectSource(site, {
      kind: "'functionapp,linux'",
      'identity.type': "'UserAssigned'",
      'properties.functionAppConfig.runtime.name': "'node'",
      'properties.functionAppConfig.deployment.storage.type': "'blobContainer'",
      'properties.functionAppConfig.deployment.storage.authentication.type': "'UserAssignedIdentity'",
      'properties.functionAppConfig.scaleAndConcurrency.instanceMemoryMB': 'instanceMemoryMB',
      'properties.functionAppConfig.scaleAndConcurrency.maximumInstanceCount': 'maximumInstanceCount',
      'properties.functionAppConfig.scaleAndConcurrency.triggers.http.perInstanceConcurrency': 'httpPerInstanceConcurrency',
    });
    expect(text(site, 'tags')).toContain("'azd-service-name'");
    expect(readFileSync(main.file, 'utf8')).toMatch(/@allowed\(\['20', '22'\]\)\n(@description\(.*\)\n)?param nodeVersion string/);
  });

  it('CORS: the platform answers it from two parameters, and by default allows no cross-origin caller', () => {
    const defaults = Object.fromEntries(parameters(main).map((parameter) => [parameter.name, parameter.defaultValue?.text]));
    expect([defaults.corsAllowedOrigins, defaults.corsSupportCredentials]).toEqual(['[]', 'false']);
    expectSource(only(functionApp, 'Microsoft.Web/sites'), {
      'properties.siteConfig.cors.allowedOrigins': 'corsAllowedOrigins',
      'properties.siteConfig.cors.supportCredentials': 'corsSupportCredentials',
    });
    const api = modules(main).find((module) => module.path === 'app/function.bicep');
    expect(['corsAllowedOrigins', 'corsSupportCredentials'].map((name) => api?.params.get(name)?.text)).toEqual(['corsAllowedOrigins', 'corsSupportCredentials']);
  });

  it('storage: shared keys off, TLS 1.2, no public blobs; deployment and content containers; chat table', () => {
    const storageFile = readBicep(path.join(infra, 'app', 'storage.bicep'));
    expectSource(only(storageFile, 'Microsoft.Storage/storageAccounts'), {
      'properties.allowSharedKeyAccess': 'false',
      'properties.allowBlobPublicAccess': 'false',
      'properties.minimumTlsVersion': "'TLS1_2'",
    });
    expect(resourcesOfType(storageFile, 'Microsoft.Storage/storageAccounts/blobServices/containers')).toHaveLength(2);
    expect(defaultOf(storageFile, 'contentContainerName')).toBe('content');
    expect(text(only(storageFile, 'Microsoft.Storage/storageAccounts/tableServices/tables'), 'name')).toBe('chatTableName');
    expect(defaultOf(main, 'chatTableName')).toBe(loadConfig({}).chatTableName);
    expect(defaultOf(main, 'searchIndexName')).toBe(loadConfig({}).search.index);
  });

  it('monitoring, OpenAI and Search accept Entra ID only', () => {
    const monitoring = readBicep(path.join(infra, 'app', 'monitoring.bicep'));
    expectSource(only(monitoring, 'Microsoft.Insights/components'), { 'properties.DisableLocalAuth': 'true', 'properties.WorkspaceResourceId': 'logAnalytics.id' });
    const openAi = readBicep(path.join(infra, 'app', 'openai.bicep'));
    expectSource(only(openAi, 'Microsoft.CognitiveServices/accounts'), { kind: "'OpenAI'", 'properties.disableLocalAuth': 'true', 'properties.customSubDomainName': 'name' });
    expect(resourcesOfType(openAi, 'Microsoft.CognitiveServices/accounts/deployments')).toHaveLength(2);
    const search = only(readBicep(path.join(infra, 'app', 'search.bicep')), 'Microsoft.Search/searchServices');
    expectSource(search, { 'properties.disableLocalAuth': 'true', 'properties.semanticSearch': "sku == 'free' ? null : semanticRankerTier" });
    expect(property(search.body, 'properties.authOptions')).toBeUndefined();
  });
});

describe('role assignments', () => {
  const rolesFile = readBicep(path.join(infra, 'app', 'roles.bicep'));
  // Built-in role ids as documented in "Azure built-in roles".
  const documented: Record<string, string> = {
    storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', // Storage Blob Data Owner
    storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', // Storage Table Data Contributor
    cognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd', // Cognitive Services OpenAI User
    searchIndexDataContributor: '8ebe5a00-799e-43f5-93ac-243d3dce84a7', // Search Index Data Contributor
    searchServiceContributor: '7ca78c08-252a-4471-8644-bb5ff32d4ba0', // Search Service Contributor
    monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb', // Monitoring Metrics Publisher
  };

  it('use exactly the documented built-in role ids, and no other id', () => {
    const roles = objectProperties(variable(rolesFile, 'roles'));
    expect(Object.fromEntries([...roles].map(([name, node]) => [name, stringValue(node)]))).toEqual(documented);
    const everyGuid = bicepFiles(infra).flatMap((file) => readFileSync(file, 'utf8').match(/[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}/gi) ?? []);
    expect(everyGuid.filter((guid) => !Object.values(documented).includes(guid.toLowerCase()))).toEqual([]);
  });

  it('grant each role once per principal, scoped to its resource, to the identity and the deploying user', () => {
    const assignments = resourcesOfType(rolesFile, 'Microsoft.Authorization/roleAssignments');
    const granted = assignments.map((assignment) => /roles\.(\w+)/.exec(text(assignment, 'properties.roleDefinitionId') ?? '')?.[1]);
    expect(granted.sort()).toEqual(Object.keys(documented).sort());
    for (const assignment of assignments) {
      expect(text(assignment, 'scope'), assignment.symbol).not.toMatch(/resourceGroup|subscription/);
      expect(text(assignment, 'properties.principalId')).toBe('principal.id');
    }
    const principals = variable(rolesFile, 'principals').text;
    expect(principals).toContain("{ id: identityPrincipalId, type: 'ServicePrincipal' }");
    expect(principals).toContain('{ id: userPrincipalId, type: userPrincipalType }');
    const rolesModule = modules(main).find((module) => module.path === 'app/roles.bicep');
    expect(rolesModule?.params.get('userPrincipalId')?.text).toBe('principalId');
    expect(defaultOf(main, 'principalType')).toBe('User');
  });
});

interface AzureYaml {
  services: Record<string, { project: string; language: string; host: string; remoteBuild?: boolean }>;
  hooks: Record<string, Record<'posix' | 'windows', { shell: string; run: string }>>;
}

describe('azure.yaml and the deployment package', () => {
  const azureYaml = parseYaml(readFileSync(path.join(root, 'azure.yaml'), 'utf8')) as AzureYaml;
  const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; main: string };

  it('has one TypeScript function service built remotely', () => {
    expect(Object.keys(azureYaml.services)).toEqual(['api']);
    expect(azureYaml.services.api).toEqual({ project: '.', language: 'ts', host: 'function', remoteBuild: true });
    expect(readFileSync(functionApp.file, 'utf8')).toMatch(/serviceName string/);
    expect(modules(main).find((module) => module.path === 'app/function.bicep')?.params.get('serviceName')?.text).toBe("'api'");
  });

  it('hooks run commands that exist, on every OS', () => {
    expect(Object.keys(azureYaml.hooks).sort()).toEqual(['postdeploy', 'postprovision']);
    for (const hook of Object.values(azureYaml.hooks)) {
      expect(hook.posix.run).toBe(hook.windows.run);
      const [command, first] = hook.posix.run.split(' ');
      if (command === 'node') expect(statSync(path.join(root, first!)).isFile()).toBe(true);
      else expect(packageJson.scripts[hook.posix.run.split(' ')[2]!], hook.posix.run).toBeDefined();
    }
  });

  function packaged(): { files: string[]; bytes: number } {
    const rules = ignore().add(readFileSync(path.join(root, '.funcignore'), 'utf8'));
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
        const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
        if (entry.name === '.git' || rules.ignores(entry.isDirectory() ? `${relative}/` : relative)) continue;
        if (entry.isDirectory()) walk(relative);
        else files.push(relative);
      }
    };
    walk('');
    return { files, bytes: files.reduce((sum, file) => sum + statSync(path.join(root, file)).size, 0) };
  }

  it('.funcignore sends the source for the remote build and nothing else', () => {
    const { files, bytes } = packaged();
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'host.json', 'src/index.ts']) expect(files).toContain(needed);
    const leaked = files.filter((file) => /^(node_modules|dist|test|scripts|infra|data|\.azure|\.azurite)\/|^local\.settings\.json$|\.md$/.test(file));
    expect(leaked).toEqual([]);
    expect(bytes).toBeLessThan(15 * 1024 * 1024);
    // tsc builds what package.json main loads
    expect(packageJson.main.startsWith('dist/src/')).toBe(true);
    expect(packageJson.scripts.build).toContain('tsc');
  });
});

describe('host.json', () => {
  const host = JSON.parse(readFileSync(path.join(root, 'host.json'), 'utf8')) as {
    version: string;
    extensionBundle: { id: string; version: string };
    extensions: { http: { routePrefix: string } };
    logging: { applicationInsights: { samplingSettings: { isEnabled: boolean; excludedTypes: string } } };
  };

  it('uses the v4 extension bundle, the api route prefix and App Insights sampling that keeps requests', () => {
    expect(host.version).toBe('2.0');
    expect(host.extensionBundle).toEqual({ id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' });
    expect(host.extensions.http.routePrefix).toBe('api');
    expect(host.logging.applicationInsights.samplingSettings.isEnabled).toBe(true);
    expect(host.logging.applicationInsights.samplingSettings.excludedTypes.split(';')).toContain('Request');
  });
});

describe('scripts/write-local-settings.mjs (postprovision)', () => {
  const script = path.join(root, 'scripts', 'write-local-settings.mjs');
  const azdValues = {
    AZURE_OPENAI_ENDPOINT: 'https://oai-x.openai.azure.com/',
    AZURE_SEARCH_ENDPOINT: 'https://srch-x.search.windows.net',
    AZURE_STORAGE_ACCOUNT_NAME: 'stx',
    CHAT_MODEL_DEPLOYMENT_NAME: 'chat',
    EMBEDDING_MODEL_DEPLOYMENT_NAME: 'embedding',
    AZURE_SEARCH_INDEX: 'gptkbindex',
    CHAT_TABLE_NAME: 'ChatState',
  };
  const run = (file: string, env: Record<string, string>) =>
    spawnSync(process.execPath, [script, file], { env: { PATH: '', ...env }, encoding: 'utf8' });

  it('merges the provisioned endpoints into an existing file and keeps the rest', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'local-settings-')), 'local.settings.json');
    const existing = {
      IsEncrypted: false,
      Values: { FUNCTIONS_WORKER_RUNTIME: 'node', AzureWebJobsStorage: 'UseDevelopmentStorage=true', MY_FLAG: 'kept', CHAT_MODEL_DEPLOYMENT_NAME: 'llama3.2' },
      Host: { LocalHttpPort: 7072 },
    };
    writeFileSync(file, JSON.stringify(existing));
    const result = run(file, azdValues);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const written = JSON.parse(readFileSync(file, 'utf8')) as typeof existing & { Values: Record<string, string> };
    expect(written.Host).toEqual({ LocalHttpPort: 7072 });
    expect(written.Values).toMatchObject({ MY_FLAG: 'kept', FUNCTIONS_WORKER_RUNTIME: 'node', CHAT_MODEL_DEPLOYMENT_NAME: 'chat' });
    // and the app, reading it, talks to Azure keylessly with the developer's sign-in
    const config = loadConfig(written.Values);
    expect(config.model).toMatchObject({ kind: 'azure', endpoint: azdValues.AZURE_OPENAI_ENDPOINT, apiKey: undefined, clientId: undefined });
    expect(config.storage).toMatchObject({ connectionString: undefined, accountName: 'stx', clientId: undefined });
    expect(config.search).toMatchObject({ endpoint: azdValues.AZURE_SEARCH_ENDPOINT, index: 'gptkbindex' });
    expect(config.embeddingModel).toBe('embedding');
  });

  it('creates the file when there is none', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'local-settings-')), 'local.settings.json');
    expect(run(file, azdValues).status).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ IsEncrypted: false, Values: { AZURE_SEARCH_INDEX: 'gptkbindex' } });
  });

  it('refuses to touch a file it cannot read, and says what is missing without azd', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'local-settings-')), 'local.settings.json');
    writeFileSync(file, '{ not json');
    const broken = run(file, azdValues);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/not valid JSON/);
    expect(readFileSync(file, 'utf8')).toBe('{ not json');
    const unprovisioned = run(file, {});
    expect(unprovisioned.status).toBe(1);
    expect(unprovisioned.stderr).toMatch(/azd provision/);
  });
});
