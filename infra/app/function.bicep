// Flex Consumption plan (FC1, Linux) and the function app. The package is deployed from a blob container
// with the user-assigned identity; every setting the app reads is below, and none that Flex rejects
// (the runtime and its version live in functionAppConfig, not in app settings).
param planName string
param appName string
param location string
param tags object

@description('azd service this app hosts (azure.yaml services key).')
param serviceName string

param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsConnectionString string

@allowed(['20', '22'])
param nodeVersion string
param instanceMemoryMB int
param maximumInstanceCount int
param httpPerInstanceConcurrency int

param openAiEndpoint string
param chatDeploymentName string
param embeddingDeploymentName string
param searchEndpoint string
param searchIndexName string
param chatTableName string
param corsAllowedOrigins array
param corsSupportCredentials bool

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: corsSupportCredentials
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    // Functions host and the app's own Table/Blob clients: identity-based, no connection string.
    AzureWebJobsStorage__accountName: storage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // DefaultAzureCredential picks the user-assigned identity by this.
    AZURE_CLIENT_ID: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
    AZURE_OPENAI_ENDPOINT: openAiEndpoint
    CHAT_MODEL_DEPLOYMENT_NAME: chatDeploymentName
    EMBEDDING_MODEL_DEPLOYMENT_NAME: embeddingDeploymentName
    AZURE_SEARCH_ENDPOINT: searchEndpoint
    AZURE_SEARCH_INDEX: searchIndexName
    CHAT_TABLE_NAME: chatTableName
  }
}

output name string = app.name
output url string = 'https://${app.properties.defaultHostName}/api'
