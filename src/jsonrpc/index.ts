/** JSON-RPC sessions over OVS stream addresses: the transport of OVSDB and unixctl. */
export { JsonFramer, type FrameResult } from "./framing.js";
export {
  JsonRpcConnection,
  JsonRpcError,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from "./connection.js";
export {
  parseActive,
  parsePassive,
  connectActive,
  type ActiveAddress,
  type PassiveAddress,
} from "./address.js";

import * as net from "node:net";
import { JsonRpcConnection } from "./connection.js";
import { connectActive, parseActive } from "./address.js";

/** Connects to an active address (`unix:`, `tcp:`) and resolves once connected. */
export function openJsonRpc(name: string): Promise<JsonRpcConnection> {
  const addr = parseActive(name);
  if (!addr) return Promise.reject(new Error(`${name}: unknown or malformed connection method`));
  return new Promise((resolve, reject) => {
    let sock: net.Socket;
    try {
      sock = connectActive(addr);
    } catch (e) {
      reject(e as Error);
      return;
    }
    const onError = (e: Error): void => reject(e);
    sock.once("error", onError);
    sock.once("connect", () => {
      sock.off("error", onError);
      resolve(new JsonRpcConnection(sock, name));
    });
  });
}
