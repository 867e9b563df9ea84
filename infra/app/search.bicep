// Azure AI Search with API keys disabled: only role assignments (RBAC) grant access. The app creates its
// own index on first use, hence Search Service Contributor besides Search Index Data Contributor.
param name string
param location string
param tags object

@allowed(['free', 'basic', 'standard'])
param sku string

@allowed(['disabled', 'free', 'standard'])
param semanticRankerTier string

resource search 'Microsoft.Search/searchServices@2023-11-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: sku }
  properties: {
    replicaCount: 1
    partitionCount: 1
    hostingMode: 'default'
    publicNetworkAccess: 'enabled'
    // authOptions must be absent when local (key) auth is disabled.
    disableLocalAuth: true
    // The free tier has no semantic ranker.
    semanticSearch: sku == 'free' ? null : semanticRankerTier
  }
}

output name string = search.name
output endpoint string = 'https://${search.name}.search.windows.net'
