/** Where the gate's own endpoints are mounted (contract §6); `app.ts` mounts them here and admission reads the same. */
export const GATE_PREFIX = "/_gate";
export const ADMIN_PREFIX = `${GATE_PREFIX}/admin`;

/** True when `path` is `prefix` or below it (`/_gate/admin`, `/_gate/admin/…`), in any case. */
export function isUnder(path: string, prefix: string): boolean {
  const head = path.slice(0, prefix.length);
  return head.toLowerCase() === prefix && (path.length === prefix.length || path[prefix.length] === "/");
}
