// Azure OpenAI with a chat and an embedding deployment. Keys are disabled (disableLocalAuth); callers need
// the Cognitive Services OpenAI User role. The custom subdomain is what makes Entra ID tokens work.
param name string
param location string
param tags object

@description('{ name, model, version, sku, capacity } of the chat model deployment.')
param chatDeployment object

@description('{ name, model, version, sku, capacity } of the embedding model deployment.')
param embeddingDeployment object

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: { name: 'S0' }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource chat 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: chatDeployment.name
  sku: {
    name: chatDeployment.sku
    capacity: chatDeployment.capacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: chatDeployment.model
      version: chatDeployment.version
    }
  }
}

// Deployments of one account cannot be created in parallel.
resource embedding 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: embeddingDeployment.name
  dependsOn: [chat]
  sku: {
    name: embeddingDeployment.sku
    capacity: embeddingDeployment.capacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: embeddingDeployment.model
      version: embeddingDeployment.version
    }
  }
}

output name string = account.name
output endpoint string = account.properties.endpoint
output chatDeploymentName string = chat.name
output embeddingDeploymentName string = embedding.name
