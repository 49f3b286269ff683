/** Thrown by {@link readCapped} when a body is larger than allowed. */
export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`a body over ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * A response body, read until `limit` bytes and no further: a larger body is
 * cancelled and rejected, so an answer from a hostile or broken peer never
 * costs the isolate more than `limit` bytes of memory (`arrayBuffer()` would
 * buffer all of it first). A Content-Length over the limit is refused unread.
 */
export async function readCapped(response: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) {
    await response.body?.cancel();
    throw new BodyTooLargeError(limit);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
