// Everything `azd up` provisions: one resource group holding a Flex Consumption function app that reaches
// Storage, Azure OpenAI, Azure AI Search and Application Insights with its user-assigned identity only
// (no keys, no connection strings), plus the same data-plane roles for the developer who deploys it.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and tags every resource.')
param environmentName string

@minLength(1)
@description('Region for every resource (must offer Flex Consumption).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Region for Azure OpenAI, when the models are not offered in the main region.')
param openAiLocation string = location

@description('Object id of the deploying user or service principal (azd sets it); empty grants no developer roles.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
@description('Kind of principal principalId is.')
param principalType string = 'User'

@allowed(['20', '22'])
@description('Node.js version of the Functions runtime.')
param nodeVersion string = '20'

@allowed([512, 2048, 4096])
@description('Memory of each Flex Consumption instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
@description('Upper bound on Flex Consumption instances (40 is the lowest the plan accepts).')
param maximumInstanceCount int = 40

// Also the bound on model streams one instance holds open: past it, the platform sends requests to another
// instance. 16 is Flex Consumption's default for 2048 MB; written here so the bound is visible and tunable.
@minValue(1)
@maxValue(1000)
@description('Concurrent HTTP requests per instance before Flex Consumption scales out.')
param httpPerInstanceConcurrency int = 16

@description('Chat model deployment (the app reads its name from CHAT_MODEL_DEPLOYMENT_NAME).')
param chatDeploymentName string = 'chat'
param chatModelName string = 'gpt-4o-mini'
param chatModelVersion string = '2024-07-18'
@description('Deployment type: GlobalStandard, Standard, DataZoneStandard, ...')
param chatDeploymentSku string = 'GlobalStandard'
@description('Capacity in thousands of tokens per minute.')
param chatDeploymentCapacity int = 30

@description('Embedding model deployment (EMBEDDING_MODEL_DEPLOYMENT_NAME); hybrid retrieval uses it.')
param embeddingDeploymentName string = 'embedding'
param embeddingModelName string = 'text-embedding-3-small'
param embeddingModelVersion string = '1'
param embeddingDeploymentSku string = 'Standard'
@description('Capacity in thousands of tokens per minute.')
param embeddingDeploymentCapacity int = 30

@allowed(['free', 'basic', 'standard'])
@description('Azure AI Search tier (free: one per subscription, no semantic ranker).')
param searchSku string = 'basic'

@allowed(['disabled', 'free', 'standard'])
@description('Semantic ranker plan (needs basic or higher; "free" is 1,000 queries a month).')
param semanticRankerTier string = 'free'

@description('Search index the app creates and queries (AZURE_SEARCH_INDEX).')
param searchIndexName string = 'gptkbindex'

@description('Table that holds the chats (CHAT_TABLE_NAME).')
param chatTableName string = 'ChatState'

// The platform answers CORS (preflights included) before the functions run, as Host.CORS does locally.
@description('Browser origins allowed to call the API, e.g. [\'https://app.contoso.com\'] (\'*\' for any). Empty: no cross-origin calls.')
param corsAllowedOrigins array = []

@description('Let cross-origin calls send credentials (cookies, Authorization); needs named origins, not *.')
param corsSupportCredentials bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    chatTableName: chatTableName
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module openAi 'app/openai.bicep' = {
  name: 'openai'
  scope: rg
  params: {
    name: 'oai-${resourceToken}'
    location: openAiLocation
    tags: tags
    chatDeployment: {
      name: chatDeploymentName
      model: chatModelName
      version: chatModelVersion
      sku: chatDeploymentSku
      capacity: chatDeploymentCapacity
    }
    embeddingDeployment: {
      name: embeddingDeploymentName
      model: embeddingModelName
      version: embeddingModelVersion
      sku: embeddingDeploymentSku
      capacity: embeddingDeploymentCapacity
    }
  }
}

module search 'app/search.bicep' = {
  name: 'search'
  scope: rg
  params: {
    name: 'srch-${resourceToken}'
    location: location
    tags: tags
    sku: searchSku
    semanticRankerTier: semanticRankerTier
  }
}

module api 'app/function.bicep' = {
  name: 'api'
  scope: rg
  params: {
    planName: 'plan-${resourceToken}'
    appName: 'func-api-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    nodeVersion: nodeVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    openAiEndpoint: openAi.outputs.endpoint
    chatDeploymentName: openAi.outputs.chatDeploymentName
    embeddingDeploymentName: openAi.outputs.embeddingDeploymentName
    searchEndpoint: search.outputs.endpoint
    searchIndexName: searchIndexName
    chatTableName: chatTableName
    corsAllowedOrigins: corsAllowedOrigins
    corsSupportCredentials: corsSupportCredentials
  }
}

module roles 'app/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    storageAccountName: storage.outputs.name
    openAiAccountName: openAi.outputs.name
    searchServiceName: search.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

// azd stores these in .azure/<env>/.env; the hooks (local.settings.json, ingestion) read them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output AZURE_FUNCTION_URL string = api.outputs.url
output AZURE_FUNCTION_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AzureWebJobsStorage__accountName string = storage.outputs.name
output AZURE_OPENAI_ENDPOINT string = openAi.outputs.endpoint
output CHAT_MODEL_DEPLOYMENT_NAME string = openAi.outputs.chatDeploymentName
output EMBEDDING_MODEL_DEPLOYMENT_NAME string = openAi.outputs.embeddingDeploymentName
output AZURE_SEARCH_ENDPOINT string = search.outputs.endpoint
output AZURE_SEARCH_INDEX string = searchIndexName
output CHAT_TABLE_NAME string = chatTableName
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.applicationInsightsConnectionString
