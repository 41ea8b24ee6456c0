import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { isPublicAddress } from "./address.js";
import { checkedAddress, fetchPicture, PictureRefused } from "./pictureFetch.js";

test("loopback_private_and_link_local_addresses_are_refused", () => {
  for (const address of ["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255"]) {
    assert.equal(isPublicAddress(address), false, address);
  }
  for (const address of ["::1", "::", "::127.0.0.1", "::a00:1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "[::1]", "fe80::1%eth0"]) assert.equal(isPublicAddress(address), false, address);
});

test("ipv4_mapped_ipv6_is_judged_as_its_ipv4_address", () => {
  for (const address of ["::ffff:127.0.0.1", "::ffff:7f00:1", "::FFFF:10.0.0.1", "0:0:0:0:0:ffff:a9fe:a9fe", "::ffff:192.168.0.1"]) assert.equal(isPublicAddress(address), false, address);
  assert.equal(isPublicAddress("::ffff:93.184.216.34"), true);
  assert.equal(isPublicAddress("::ffff:5db8:d822"), true);
});

test("public_addresses_pass_and_garbage_does_not", () => {
  for (const address of ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "2a00:1450:4001::200e"]) assert.equal(isPublicAddress(address), true, address);
  for (const address of ["", "localhost", "1.2.3", "::ffff::1", "example.org"]) assert.equal(isPublicAddress(address), false, address);
});

test("loopback_is_allowed_only_with_the_test_option", () => {
  assert.equal(isPublicAddress("127.0.0.1", true), true);
  assert.equal(isPublicAddress("::1", true), true);
  assert.equal(isPublicAddress("10.0.0.1", true), false);
});

test("a_name_resolving_to_any_private_address_is_refused", async () => {
  const options = { timeoutMs: 1_000, allowLoopback: false };
  await assert.rejects(checkedAddress("pics.example", { ...options, resolve: async () => ["93.184.216.34", "10.0.0.5"] }), PictureRefused);
  await assert.rejects(checkedAddress("pics.example", { ...options, resolve: async () => [] }), PictureRefused);
  assert.equal(await checkedAddress("pics.example", { ...options, resolve: async () => ["93.184.216.34"] }), "93.184.216.34");
  await assert.rejects(checkedAddress("[::ffff:127.0.0.1]", options), PictureRefused);
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; base: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    handler?.(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

test("redirects_to_a_private_address_are_refused", async (t) => {
  const { server, base, hits } = await serve((req, res) => {
    if (req.url === "/a") res.writeHead(302, { location: "http://10.0.0.1/x.png" }).end();
    else if (req.url === "/b") res.writeHead(301, { location: "https://metadata.example/x.png" }).end();
    else if (req.url === "/loop") res.writeHead(302, { location: "/loop" }).end();
    else res.writeHead(200, { "content-type": "image/png" }).end(Buffer.from([137, 80, 78, 71]));
  });
  t.after(() => server.close());
  const options = { timeoutMs: 2_000, allowLoopback: true, resolve: async () => ["169.254.169.254"] };
  await assert.rejects(fetchPicture(`${base}/a`, options), /https only|non-public/);
  await assert.rejects(fetchPicture(`${base}/b`, options), /non-public/);
  await assert.rejects(fetchPicture(`${base}/loop`, options), /too many redirects/);
  assert.equal(await fetchPicture(`${base}/ok`, options), `data:image/png;base64,${Buffer.from([137, 80, 78, 71]).toString("base64")}`);
  assert.ok(hits.includes("/a") && hits.includes("/b"));
});

test("pictures_are_refused_unless_small_images_over_https", async (t) => {
  const { server, base } = await serve((req, res) => {
    if (req.url === "/html") res.writeHead(200, { "content-type": "text/html" }).end("<p>hi</p>");
    else if (req.url === "/svg") res.writeHead(200, { "content-type": "image/svg+xml" }).end("<svg/>");
    else res.writeHead(200, { "content-type": "image/jpeg" }).end(Buffer.alloc(600 * 1024));
  });
  t.after(() => server.close());
  const options = { timeoutMs: 2_000, allowLoopback: true };
  await assert.rejects(fetchPicture(`${base}/html`, options), /not a picture/);
  await assert.rejects(fetchPicture(`${base}/svg`, options), /not a picture/);
  await assert.rejects(fetchPicture(`${base}/big`, options), /too large/);
  await assert.rejects(fetchPicture(`${base}/ok`, { timeoutMs: 2_000, allowLoopback: false }), /https only/);
});
