import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { APP_INDEX_URL, contentTypeFor, createAppRequestHandler, isAppIndexUrl, type AppResponse } from "./appProtocol.js";
import { CONTENT_SECURITY_POLICY } from "../shared/csp.js";

const INDEX_HTML = "<!doctype html><title>Burrow</title>";
const APP_JS = "console.log('app');";
const SECRET = "outside the renderer";

describe("unit: app:// index page check", () => {
  test("only_app_burrow_index_html_is_our_page", () => {
    assert.equal(APP_INDEX_URL, "app://burrow/index.html");
    assert.equal(isAppIndexUrl("app://burrow/index.html"), true);
    assert.equal(isAppIndexUrl("app://burrow/index.html#section"), true, "a fragment stays on the page");
  });

  test("file_urls_other_hosts_paths_queries_and_credentials_are_not_our_page", () => {
    for (const url of [
      "file:///app/dist/renderer/index.html",
      "app://evil/index.html",
      "app://burrow.evil/index.html",
      "app://burrow:8080/index.html",
      "app://user@burrow/index.html",
      "app://burrow/other.html",
      "app://burrow/",
      "app://burrow/index.html?x=1",
      "app://burrow/assets/index.html",
      "https://burrow/index.html",
      "http://127.0.0.1:5173/index.html",
      "not a url",
      "",
    ]) {
      assert.equal(isAppIndexUrl(url), false, url);
    }
  });
});

describe("unit: app:// content types", () => {
  test("renderer_assets_get_their_content_type_and_unknown_files_none", () => {
    assert.equal(contentTypeFor("/r/index.html"), "text/html; charset=utf-8");
    assert.equal(contentTypeFor("/r/assets/index-abc.js"), "text/javascript; charset=utf-8");
    assert.equal(contentTypeFor("/r/assets/index-abc.CSS"), "text/css; charset=utf-8");
    assert.equal(contentTypeFor("/r/icon.svg"), "image/svg+xml");
    assert.equal(contentTypeFor("/r/font.woff2"), "font/woff2");
    assert.equal(contentTypeFor("/r/tool.exe"), null);
    assert.equal(contentTypeFor("/r/Makefile"), null);
  });
});

describe("unit: app:// request handler", () => {
  let base: string;
  let root: string;
  const serve = (url: string, method = "GET"): Promise<AppResponse> => createAppRequestHandler(root)({ method, url });
  const text = (response: AppResponse): string => (typeof response.body === "string" ? response.body : Buffer.from(response.body).toString("utf8"));

  before(async () => {
    base = await mkdtemp(path.join(tmpdir(), "burrow-app-protocol-"));
    root = path.join(base, "renderer");
    await mkdir(path.join(root, "assets"), { recursive: true });
    await writeFile(path.join(root, "index.html"), INDEX_HTML);
    await writeFile(path.join(root, "assets", "app.js"), APP_JS);
    await writeFile(path.join(root, "notes.unknown"), "x");
    await writeFile(path.join(base, "secret.html"), SECRET);
    await mkdir(path.join(base, "renderer-evil"));
    await writeFile(path.join(base, "renderer-evil", "index.html"), SECRET);
    await symlink(path.join(base, "secret.html"), path.join(root, "escape.html"));
    await symlink(base, path.join(root, "up"));
    await symlink(path.join(root, "index.html"), path.join(root, "alias.html"));
  });

  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  test("serves_index_html_and_assets_with_csp_and_content_type", async () => {
    const index = await serve("app://burrow/index.html");
    assert.equal(index.status, 200);
    assert.equal(text(index), INDEX_HTML);
    assert.equal(index.headers["Content-Type"], "text/html; charset=utf-8");
    assert.equal(index.headers["Content-Security-Policy"], CONTENT_SECURITY_POLICY);
    assert.equal(index.headers["X-Content-Type-Options"], "nosniff");

    const script = await serve("app://burrow/assets/app.js?v=1");
    assert.equal(script.status, 200);
    assert.equal(text(script), APP_JS);
    assert.equal(script.headers["Content-Type"], "text/javascript; charset=utf-8");
    assert.equal(script.headers["Content-Security-Policy"], CONTENT_SECURITY_POLICY);
  });

  test("a_symlink_that_stays_inside_the_root_is_served", async () => {
    const alias = await serve("app://burrow/alias.html");
    assert.equal(alias.status, 200);
    assert.equal(text(alias), INDEX_HTML);
  });

  test("only_get_is_served", async () => {
    for (const method of ["POST", "PUT", "DELETE", "HEAD", "OPTIONS", "get"]) {
      const response = await serve("app://burrow/index.html", method);
      assert.equal(response.status, 405, method);
      assert.equal(response.headers["Allow"], "GET");
      assert.notEqual(text(response), INDEX_HTML);
    }
  });

  test("unknown_hosts_are_refused", async () => {
    for (const url of ["app://other/index.html", "app://burrow.evil/index.html", "app://burrow:1/index.html", "app://x@burrow/index.html", "app://BURROW/index.html"]) {
      assert.equal((await serve(url)).status, 403, url);
    }
  });

  test("traversal_in_every_spelling_is_refused", async () => {
    for (const url of [
      "app://burrow/../secret.html",
      "app://burrow/assets/../../secret.html",
      "app://burrow/%2e%2e/secret.html",
      "app://burrow/%2E%2E/secret.html",
      "app://burrow/.%2e/secret.html",
      "app://burrow/..%2fsecret.html",
      "app://burrow/assets%2f..%2f..%2fsecret.html",
      "app://burrow/..%5csecret.html",
      "app://burrow/..\\secret.html",
      "app://burrow/assets\\..\\..\\secret.html",
      "app://burrow/%252e%252e/secret.html",
      "app://burrow/./index.html",
      "app://burrow/..",
      "app://burrow/index.html%00.js",
      "app://burrow/index.html\0.js",
      `app://burrow/${encodeURIComponent(path.join(path.sep, "etc", "passwd"))}`,
      `app://burrow//${path.join(base, "secret.html")}`,
      "app://burrow/C:/Windows/win.ini",
      "app://burrow/%E0%A4%A",
    ]) {
      const response = await serve(url);
      assert.equal(response.status, 400, url);
      assert.notEqual(text(response), SECRET, url);
    }
  });

  test("a_sibling_directory_sharing_the_root_prefix_is_not_inside", async () => {
    const response = await serve("app://burrow/../renderer-evil/index.html");
    assert.notEqual(response.status, 200);
    assert.notEqual(text(response), SECRET);
  });

  test("symlinks_escaping_the_root_are_refused", async () => {
    for (const url of ["app://burrow/escape.html", "app://burrow/up/secret.html", "app://burrow/up/renderer-evil/index.html"]) {
      const response = await serve(url);
      assert.equal(response.status, 403, url);
      assert.notEqual(text(response), SECRET, url);
    }
  });

  test("missing_files_directories_and_unknown_types_are_not_found", async () => {
    for (const url of ["app://burrow/missing.html", "app://burrow/assets", "app://burrow/", "app://burrow/notes.unknown", "app://burrow/index.html/x.js"]) {
      const response = await serve(url);
      assert.ok(response.status === 404 || response.status === 400, `${url}: ${response.status}`);
      assert.notEqual(response.status, 200, url);
    }
    assert.equal((await serve("app://burrow/missing.html")).status, 404);
    assert.equal((await serve("app://burrow/notes.unknown")).status, 404);
  });

  test("a_missing_renderer_build_is_not_found_not_a_crash", async () => {
    const response = await createAppRequestHandler(path.join(base, "not-built"))({ method: "GET", url: "app://burrow/index.html" });
    assert.equal(response.status, 404);
  });
});
