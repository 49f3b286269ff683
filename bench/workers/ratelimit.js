// The Workers Rate Limiting binding for the benchmark: a fixed-window counter
// in memory, as miniflare implements it (workerd exposes it as a "wrapped"
// binding: this module's default export is called with the inner bindings
// `limit` and `period` and returns the object the Worker sees).
export default function ratelimit({ limit, period }) {
  const buckets = new Map();
  let epoch = 0;
  return {
    async limit({ key = "" } = {}) {
      const current = Math.floor(Date.now() / (period * 1000));
      if (current !== epoch) {
        epoch = current;
        buckets.clear();
      }
      const count = buckets.get(key) ?? 0;
      if (count >= limit) return { success: false };
      buckets.set(key, count + 1);
      return { success: true };
    },
  };
}
