import { version } from "gatehouse-edge/package.json";

/** This gate's package version. */
export const GATE_VERSION: string = version;
