import type { Readable } from 'node:stream';

/**
 * Reads the DATA stream into one buffer, keeping at most `limit` bytes. The rest
 * is read and dropped, so that an oversized message costs no memory beyond the
 * limit while smtp-server still sees the final dot and answers 552.
 */
export async function collectMessage(stream: Readable, limit: number): Promise<{ raw: Buffer; size: number; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (kept < limit) {
      const part = kept + chunk.length > limit ? chunk.subarray(0, limit - kept) : chunk;
      chunks.push(part);
      kept += part.length;
    }
  }
  return { raw: Buffer.concat(chunks, kept), size, truncated: size > limit };
}
