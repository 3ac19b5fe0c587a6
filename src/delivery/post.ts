import { request, type Dispatcher } from 'undici';

/** What one webhook request came back with. */
export interface PostResult {
  readonly status: number;
  /** The start of the response body, for logs and dead-letter reasons. */
  readonly bodyStart: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

// Enough to show an endpoint's error message; the rest is drained and dropped so
// the socket goes back to the pool without holding a large body in memory.
const BODY_START_BYTES = 2048;

/**
 * POSTs a JSON body. One deadline covers connect, headers and body. Redirects are
 * returned as they are, never followed: a 3xx is the endpoint's answer.
 */
export async function postJson(options: {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}): Promise<PostResult> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const response = await request(options.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body,
    signal,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const chunks: Buffer[] = [];
  let kept = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (kept < BODY_START_BYTES) {
        chunks.push(chunk);
        kept += chunk.length;
      }
      if (kept >= BODY_START_BYTES) break;
    }
  } finally {
    // Breaking out of the loop above destroys the body; this covers the rest.
    if (!response.body.destroyed) response.body.destroy();
  }
  return {
    status: response.statusCode,
    bodyStart: Buffer.concat(chunks).subarray(0, BODY_START_BYTES).toString('utf8'),
    headers: response.headers,
  };
}
