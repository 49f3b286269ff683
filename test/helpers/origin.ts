/** A request as the test origin received it. */
export interface Received {
  method: string;
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** How the test origin answers; by default it echoes what it received as JSON. */
export type Reply = (request: Request, received: Received) => Response | Promise<Response>;

/**
 * An origin that records every request it receives, bound to the gate as the
 * `ORIGIN` service binding. Refusal tests assert `received` stayed empty: the
 * request never reached the origin.
 */
export function createRecordingOrigin() {
  const received: Received[] = [];
  let reply: Reply = (_request, seen) => Response.json(seen);
  const origin = {
    received,
    /** Replaces the reply for the following requests. */
    reply(next: Reply) {
      reply = next;
    },
    /** The last request received, failing when there is none. */
    last(): Received {
      const seen = received.at(-1);
      if (!seen) throw new Error("the origin received nothing");
      return seen;
    },
    async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      const request = new Request(input, init);
      const headers: Record<string, string> = {};
      for (const [name, value] of request.headers) headers[name] = value;
      const url = new URL(request.url);
      const seen = { method: request.method, url: request.url, path: url.pathname, headers, body: await request.text() };
      received.push(seen);
      return reply(request, seen);
    },
  };
  return origin;
}

/** The recording origin's type. */
export type RecordingOrigin = ReturnType<typeof createRecordingOrigin>;
