// Least-privilege data-plane roles, each scoped to the one resource it is for, granted to the app's
// identity and (when azd knows who deploys) to the developer, so `npm start` works against Azure too.
// No Queue role: the app has no queue triggers. No key-reading roles: keys are disabled everywhere.
param identityPrincipalId string
param userPrincipalId string
param userPrincipalType string
param storageAccountName string
param openAiAccountName string
param searchServiceName string
param applicationInsightsName string

// Built-in role definition ids (the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  cognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  searchIndexDataContributor: '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
  searchServiceContributor: '7ca78c08-252a-4471-8644-bb5ff32d4ba0'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

var principals = concat(
  [{ id: identityPrincipalId, type: 'ServicePrincipal' }],
  empty(userPrincipalId) ? [] : [{ id: userPrincipalId, type: userPrincipalType }]
)

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: openAiAccountName
}

resource search 'Microsoft.Search/searchServices@2023-11-01' existing = {
  name: searchServiceName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Blob Data Owner (not Contributor): the Functions host manages its own containers and leases.
resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in principals: {
    name: guid(storage.id, principal.id, roles.storageBlobDataOwner)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
      principalId: principal.id
      principalType: principal.type
    }
  }
]

resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in principals: {
    name: guid(storage.id, principal.id, roles.storageTableDataContributor)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
      principalId: principal.id
      principalType: principal.type
    }
  }
]

// OpenAI User (inference only), not the broader Cognitive Services User.
resource openAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in principals: {
    name: guid(openAi.id, principal.id, roles.cognitiveServicesOpenAIUser)
    scope: openAi
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAIUser)
      principalId: principal.id
      principalType: principal.type
    }
  }
]

resource searchIndexDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in principals: {
    name: guid(search.id, principal.id, roles.searchIndexDataContributor)
    scope: search
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.searchIndexDataContributor)
      principalId: principal.id
      principalType: principal.type
    }
  }
]

// The app creates its index (and its vector/semantic configuration) on first use.
resource searchServiceContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in principals: {
    name: guid(search.id, principal.id, roles.searchServiceContributor)
    scope: search
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.searchServiceContributor)
      principalId: principal.id
      principalType: principal.type
    }
  }
]

// Entra ID-authenticated telemetry ingestion (Application Insights has local auth disabled).
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in principals: {
    name: guid(applicationInsights.id, principal.id, roles.monitoringMetricsPublisher)
    scope: applicationInsights
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
      principalId: principal.id
      principalType: principal.type
    }
  }
]
