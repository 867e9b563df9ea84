import { invalidRequest, payloadTooLarge } from '../errors/index.js';

export type ImageType = 'png' | 'jpeg' | 'gif' | 'webp';

export interface ImageData {
  type: ImageType;
  bytes: number;
  /** `data:image/<type>;base64,...`, ready for an `image_url` content part. */
  dataUri: string;
}

const DATA_URI = /^data:image\/([a-z+.-]+);base64,([A-Za-z0-9+/\s]*={0,2})$/i;

/** The real type of an image, from its first bytes; the declared type is never trusted. */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  const starts = (...signature: number[]) => signature.every((value, index) => bytes[index] === value);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (starts(0xff, 0xd8, 0xff)) return 'jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) return 'gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) {
    return 'webp';
  }
  return undefined;
}

/** Checks an uploaded image (raw bytes from multipart) and turns it into a data URI. */
export function checkImageBytes(bytes: Uint8Array, maxBytes: number, field: string): ImageData {
  if (bytes.byteLength > maxBytes) throw payloadTooLarge(`${field}: the image is larger than ${maxBytes} bytes.`);
  const type = sniffImageType(bytes);
  if (type == null) throw invalidRequest(`${field}: not a PNG, JPEG, GIF or WebP image.`);
  return { type, bytes: bytes.byteLength, dataUri: `data:image/${type};base64,${Buffer.from(bytes).toString('base64')}` };
}

/**
 * Parses a `data:image/...;base64,` URI, refusing (413) before decoding when the decoded size would pass
 * `maxBytes`, and (400) when the bytes are not the image type they claim to be.
 */
export function parseImageDataUri(uri: string, maxBytes: number, field: string): ImageData {
  const match = DATA_URI.exec(uri.trim());
  if (match == null) {
    throw invalidRequest(`${field}: images must be data URIs of the form data:image/<png|jpeg|gif|webp>;base64,<data>.`);
  }
  const declared = match[1]!.toLowerCase();
  const base64 = match[2]!.replace(/\s+/g, '');
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  const decodedSize = Math.floor((base64.length * 3) / 4) - padding;
  if (decodedSize > maxBytes) throw payloadTooLarge(`${field}: the image is larger than ${maxBytes} bytes.`);
  const image = checkImageBytes(Buffer.from(base64, 'base64'), maxBytes, field);
  const declaredType = declared === 'jpg' ? 'jpeg' : declared;
  if (declaredType !== image.type) {
    throw invalidRequest(`${field}: declared as image/${declared} but the data is ${image.type}.`);
  }
  return image;
}
