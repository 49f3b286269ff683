export { default, GatehouseSessions } from "gatehouse-edge";
