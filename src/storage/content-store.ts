import type { ContainerClient } from '@azure/storage-blob';
import type { StorageSettings } from '../config.js';
import { createBlobServiceClient } from './clients.js';
import { storageStatus, translateStorageError } from '../errors/storage.js';

// Source documents live in one blob container (`content`); the blob's metadata is the documents catalogue
// (chunks, pages, indexedAt), so GET /api/documents needs no second store that could disagree with it.

export interface DocumentInfo {
  name: string;
  chunks: number;
  pages: number;
  contentType: string;
  size: number;
  indexedAt: string;
  category?: string;
}

export interface DocumentMetadata {
  chunks: number;
  pages: number;
  indexedAt: string;
  category?: string;
}

export interface StoredContent {
  contentType: string;
  size: number;
  body: AsyncIterable<Uint8Array>;
}

export interface ContentStore {
  put(name: string, bytes: Uint8Array, contentType: string, metadata: DocumentMetadata): Promise<void>;
  /** Streams a stored file; undefined when there is none. */
  open(name: string, signal?: AbortSignal): Promise<StoredContent | undefined>;
  info(name: string): Promise<DocumentInfo | undefined>;
  /** False when there was nothing to delete. */
  remove(name: string): Promise<boolean>;
  list(): Promise<DocumentInfo[]>;
}

function toInfo(name: string, contentType: string | undefined, size: number | undefined, metadata: Record<string, string> | undefined): DocumentInfo {
  const number = (value: string | undefined) => (value == null || !Number.isFinite(Number(value)) ? 0 : Number(value));
  return {
    name,
    chunks: number(metadata?.chunks),
    pages: number(metadata?.pages),
    contentType: contentType ?? 'application/octet-stream',
    size: size ?? 0,
    indexedAt: metadata?.indexedat ?? '',
    ...(metadata?.category == null ? {} : { category: decodeURIComponent(metadata.category) }),
  };
}

/** Blob metadata values must be ASCII: names and categories are stored percent-encoded. */
function toMetadata(metadata: DocumentMetadata): Record<string, string> {
  return {
    chunks: String(metadata.chunks),
    pages: String(metadata.pages),
    indexedat: metadata.indexedAt,
    ...(metadata.category == null ? {} : { category: encodeURIComponent(metadata.category) }),
  };
}

export class BlobContentStore implements ContentStore {
  private container: Promise<ContainerClient> | undefined;

  constructor(
    private readonly settings: StorageSettings,
    private readonly containerName: string,
  ) {}

  /** The container client, creating the container once per process. */
  private client(): Promise<ContainerClient> {
    this.container ??= (async () => {
      const service = await createBlobServiceClient(this.settings);
      const container = service.getContainerClient(this.containerName);
      await container.createIfNotExists();
      return container;
    })().catch((error: unknown) => {
      this.container = undefined;
      throw translateStorageError(error);
    });
    return this.container;
  }

  async put(name: string, bytes: Uint8Array, contentType: string, metadata: DocumentMetadata): Promise<void> {
    const container = await this.client();
    try {
      await container.getBlockBlobClient(name).uploadData(bytes, {
        blobHTTPHeaders: { blobContentType: contentType },
        metadata: toMetadata(metadata),
      });
    } catch (error: unknown) {
      throw translateStorageError(error);
    }
  }

  async open(name: string, signal?: AbortSignal): Promise<StoredContent | undefined> {
    const container = await this.client();
    try {
      const download = await container.getBlobClient(name).download(0, undefined, { abortSignal: signal });
      const body = download.readableStreamBody;
      if (body == null) return undefined;
      return {
        contentType: download.contentType ?? 'application/octet-stream',
        size: download.contentLength ?? 0,
        body: body as AsyncIterable<Uint8Array>,
      };
    } catch (error: unknown) {
      if (storageStatus(error) === 404) return undefined;
      throw translateStorageError(error);
    }
  }

  async info(name: string): Promise<DocumentInfo | undefined> {
    const container = await this.client();
    try {
      const properties = await container.getBlobClient(name).getProperties();
      return toInfo(name, properties.contentType, properties.contentLength, properties.metadata);
    } catch (error: unknown) {
      if (storageStatus(error) === 404) return undefined;
      throw translateStorageError(error);
    }
  }

  async remove(name: string): Promise<boolean> {
    const container = await this.client();
    try {
      const result = await container.getBlobClient(name).deleteIfExists();
      return result.succeeded;
    } catch (error: unknown) {
      throw translateStorageError(error);
    }
  }

  async list(): Promise<DocumentInfo[]> {
    const container = await this.client();
    const documents: DocumentInfo[] = [];
    try {
      for await (const blob of container.listBlobsFlat({ includeMetadata: true })) {
        documents.push(toInfo(blob.name, blob.properties.contentType, blob.properties.contentLength, blob.metadata));
      }
    } catch (error: unknown) {
      throw translateStorageError(error);
    }
    return documents;
  }
}
