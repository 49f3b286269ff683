import { createMemoryStore } from "../../src/store/memory";
import { runStoreConformance } from "./conformance";
import { HOUR, T0 } from "./fixtures";

runStoreConformance(
  "memory",
  async () => {
    const clock = { now: T0 };
    const store = createMemoryStore({ now: () => clock.now });
    return {
      store,
      advance: (ms) => void (clock.now += ms),
      corrupt: async (key, raw) => void store.raw.set(key, { value: raw, expires: clock.now + HOUR }),
    };
  },
  { moveClock: true, corrupt: true },
);
