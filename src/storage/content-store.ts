import type { ContainerClient } from '@azure/storage-blob';
import type { StorageSettings } from '../config.js';
import { createBlobServiceClient } from './clients.js';
import { DocumentLocks, LOCK_PREFIX, type DocumentLock } from './document-locks.js';
import { storageStatus, translateStorageError } from '../errors/storage.js';

// Source documents live in one blob container (`content`); the blob's metadata is the documents catalogue
// (chunks, pages, indexedAt, version), so GET /api/documents needs no second store that could disagree with
// it. Writing the blob is the commit point of an ingest: its metadata names the version whose chunks the
// index must hold (see ingest/pipeline.ts).

export interface DocumentInfo {
  name: string;
  chunks: number;
  pages: number;
  contentType: string;
  size: number;
  indexedAt: string;
  category?: string;
  /** The ingest version whose chunk ids the index holds ('' for documents stored before versions). */
  version: string;
}

export interface DocumentMetadata {
  chunks: number;
  pages: number;
  indexedAt: string;
  category?: string;
  version: string;
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
  /** The whole stored file (for rebuilding the index), or undefined. */
  read(name: string): Promise<{ bytes: Uint8Array; contentType: string } | undefined>;
  /** Holds the name's cross-process lock (a blob lease), waiting for another holder. */
  lock(name: string): Promise<DocumentLock>;
  /** The name's lock if it is free now. */
  tryLock(name: string): Promise<DocumentLock | undefined>;
  /** Names with an operation running or interrupted (their lock blob exists). */
  pendingLocks(): Promise<string[]>;
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
    version: metadata?.version ?? '',
  };
}

/** Blob metadata values must be ASCII: names and categories are stored percent-encoded. */
function toMetadata(metadata: DocumentMetadata): Record<string, string> {
  return {
    chunks: String(metadata.chunks),
    pages: String(metadata.pages),
    indexedat: metadata.indexedAt,
    version: metadata.version,
    ...(metadata.category == null ? {} : { category: encodeURIComponent(metadata.category) }),
  };
}

export class BlobContentStore implements ContentStore {
  private container: Promise<ContainerClient> | undefined;
  private readonly locks = new DocumentLocks(() => this.client());

  constructor(
    private readonly settings: StorageSettings,
    private readonly containerName: string,
  ) {}

  lock(name: string): Promise<DocumentLock> {
    return this.locks.acquire(name);
  }

  tryLock(name: string): Promise<DocumentLock | undefined> {
    return this.locks.tryAcquire(name);
  }

  pendingLocks(): Promise<string[]> {
    return this.locks.pending();
  }

  async read(name: string): Promise<{ bytes: Uint8Array; contentType: string } | undefined> {
    const container = await this.client();
    try {
      const blob = container.getBlobClient(name);
      const properties = await blob.getProperties();
      return { bytes: await blob.downloadToBuffer(), contentType: properties.contentType ?? 'application/octet-stream' };
    } catch (error: unknown) {
      if (storageStatus(error) === 404) return undefined;
      throw translateStorageError(error);
    }
  }

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
        if (blob.name.startsWith(LOCK_PREFIX)) continue;
        documents.push(toInfo(blob.name, blob.properties.contentType, blob.properties.contentLength, blob.metadata));
      }
    } catch (error: unknown) {
      throw translateStorageError(error);
    }
    return documents;
  }
}
