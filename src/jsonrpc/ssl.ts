/**
 * SSL streams (`ssl:IP:PORT` and `pssl:PORT[:IP]`), as OVS's stream-ssl
 * makes them: both ends show a certificate signed by a CA the other end
 * trusts, and only that chain is checked (OVS does not compare host names).
 * The key, certificate and CA certificate are PEM files — the `SSL` table's
 * columns or a daemon's `--private-key`, `--certificate`, `--ca-cert` — read
 * again for every connection, so renewed files take effect without a
 * restart.
 */
import * as fs from "node:fs";
import * as tls from "node:tls";

/** The three files of an SSL configuration (null = not configured). */
export interface SslFiles {
  privateKey: string | null;
  certificate: string | null;
  caCert: string | null;
}

interface SslOptions {
  key: Buffer;
  cert: Buffer;
  ca: Buffer;
}

/**
 * The TLS material of `files`, or OVS's message for what is missing or
 * unreadable (stream-ssl logs these and refuses the connection).
 */
export function loadSsl(files: SslFiles | null): SslOptions | string {
  if (files?.privateKey == null) return "Private key must be configured to use SSL";
  if (files.certificate == null) return "Certificate must be configured to use SSL";
  if (files.caCert == null) return "CA certificate must be configured to use SSL";
  const read = (what: string, f: string): Buffer | string => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      return `${f}: could not read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
  };
  const key = read("private key", files.privateKey);
  if (typeof key === "string") return key;
  const cert = read("certificate", files.certificate);
  if (typeof cert === "string") return cert;
  const ca = read("CA certificate", files.caCert);
  if (typeof ca === "string") return ca;
  return { key, cert, ca };
}

/** Dials `host:port`; the socket emits "secureConnect" once the peer's certificate checked out. */
export function connectSsl(host: string, port: number, opts: SslOptions): tls.TLSSocket {
  return tls.connect({ host, port, ...opts, rejectUnauthorized: true, checkServerIdentity: () => undefined });
}

/** A server that accepts only clients with a certificate from the configured CA. */
export function createSslServer(opts: SslOptions, onSecure: (sock: tls.TLSSocket) => void): tls.Server {
  return tls.createServer({ ...opts, requestCert: true, rejectUnauthorized: true }, onSecure);
}
