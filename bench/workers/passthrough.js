// The floor: a Worker that forwards every request to ORIGIN_URL unchanged
// (same path and query, same headers, body streamed), and returns the origin's
// response as it is. Whatever the gate costs is measured above this.
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return fetch(new Request(env.ORIGIN_URL + url.pathname + url.search, request));
  },
};
