// One profile picture over HTTPS, as a data: URL. Every hop (the URL and each redirect) is resolved
// first and refused unless all its addresses are public; the connection then goes to the address
// that was checked, so a second DNS answer cannot point it elsewhere.
import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { isPublicAddress } from "./address.js";

export const MAX_PICTURE_BYTES = 512 * 1024;
const MAX_REDIRECTS = 3;
const PICTURE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

export interface PictureFetchOptions {
  timeoutMs: number;
  /** Tests only: http://127.0.0.1 and ::1 are allowed. */
  allowLoopback: boolean;
  /** Name resolution; the system's by default. */
  resolve?: (host: string) => Promise<string[]>;
}

export class PictureRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "PictureRefused";
  }
}

const systemResolve = async (host: string): Promise<string[]> => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** The one address to connect to for `host`, after every address it resolves to passed the check. */
export async function checkedAddress(host: string, options: PictureFetchOptions): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, "");
  const addresses = isIP(bare) ? [bare] : await (options.resolve ?? systemResolve)(bare);
  const first = addresses[0];
  if (first === undefined) throw new PictureRefused(`${host} has no address`);
  const refused = addresses.find((a) => !isPublicAddress(a, options.allowLoopback));
  if (refused !== undefined) throw new PictureRefused(`${host} resolves to a non-public address`);
  return first;
}

function allowedUrl(url: URL, options: PictureFetchOptions): boolean {
  if (url.protocol === "https:") return true;
  return options.allowLoopback && url.protocol === "http:" && isIP(url.hostname.replace(/^\[|\]$/g, "")) !== 0;
}

function get(url: URL, address: string, deadline: AbortSignal): Promise<IncomingMessage> {
  const pinned: LookupFunction = (_host, options, callback) => {
    const family = isIP(address);
    if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: "GET", lookup: pinned, signal: deadline, headers: { accept: [...PICTURE_TYPES].join(", ") } }, resolve);
    req.on("error", reject);
    req.end();
  });
}

async function body(response: IncomingMessage): Promise<Buffer> {
  const declared = Number(response.headers["content-length"] ?? 0);
  if (declared > MAX_PICTURE_BYTES) {
    response.destroy();
    throw new PictureRefused("picture too large");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_PICTURE_BYTES) {
      response.destroy();
      throw new PictureRefused("picture too large");
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The picture at `raw` as a data: URL; throws (PictureRefused or a network error) otherwise. */
export async function fetchPicture(raw: string, options: PictureFetchOptions): Promise<string> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let url = new URL(raw);
  for (let hop = 0; ; hop += 1) {
    if (!allowedUrl(url, options)) throw new PictureRefused("pictures come over https only");
    const address = await checkedAddress(url.hostname, options);
    const response = await get(url, address, deadline);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      if (hop >= MAX_REDIRECTS) throw new PictureRefused("too many redirects");
      url = new URL(response.headers.location, url);
      continue;
    }
    if (status !== 200) {
      response.resume();
      throw new PictureRefused(`HTTP ${status}`);
    }
    const type = (response.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!PICTURE_TYPES.has(type)) {
      response.destroy();
      throw new PictureRefused(`not a picture (${type.slice(0, 40) || "no type"})`);
    }
    return `data:${type};base64,${(await body(response)).toString("base64")}`;
  }
}
