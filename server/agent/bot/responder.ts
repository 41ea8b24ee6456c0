// What the agent says back: a deterministic echo by default, an OpenAI-compatible chat endpoint
// when one is configured. A responder never throws for a failing model: it answers with an apology.
import type { Logger } from "../../../core/index.js";

/** One earlier message of the chat, oldest first: the owner's are `user`, the agent's `assistant`. */
export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

export type Responder = (input: { text: string; history: ChatTurn[] }) => Promise<string>;

const ECHO_MAX_CHARS = 80;

/** The text on one line (runs of whitespace, newlines included, become one space), cut to 80 characters with "…". */
export function echoSnippet(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  // By code points, so a cut never splits an emoji's surrogate pair.
  const chars = Array.from(line);
  return chars.length <= ECHO_MAX_CHARS ? line : `${chars.slice(0, ECHO_MAX_CHARS).join("").trimEnd()}…`;
}

/** "ACK: " and a short echo of the message. Deterministic: tests and the local stack rely on the exact text. */
export const echoResponder: Responder = async ({ text }) => `ACK: ${echoSnippet(text)}`.trimEnd();

export const SYSTEM_PROMPT =
  "You are the user's personal Burrow agent. You talk with your owner in an end-to-end encrypted Marmot chat. " +
  "Answer helpfully, honestly and concisely, in plain text.";

/** What the owner reads when no answer could be made; `reason` completes "my language model …". */
export function apology(reason: string): string {
  return `Sorry, I can't answer right now: ${reason}. Please try again in a moment.`;
}

export const DEFAULT_LLM_MODEL = "gpt-4o-mini";
export const DEFAULT_LLM_TIMEOUT_MS = 60_000;

/**
 * The endpoint for an API base, the way OpenAI's own clients join them: trailing slashes are
 * dropped and "/chat/completions" appended. So the base names the version: "http://host:8080/v1"
 * posts to "http://host:8080/v1/chat/completions".
 */
export function chatCompletionsUrl(base: string): string {
  let url: URL;
  try {
    url = new URL(base.trim());
  } catch {
    throw new Error(`LLM URL is not a URL: ${base}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`LLM URL must be http:// or https://, got ${url.protocol}`);
  if (url.search || url.hash) throw new Error("LLM URL must be a base URL without ?query or #fragment");
  if (url.username || url.password) throw new Error("LLM URL must not carry credentials: set the API key apart (BURROW_AGENT_LLM_KEY)");
  return `${url.href.replace(/\/+$/, "")}/chat/completions`;
}

export interface OpenAiResponderOptions {
  /** The API base including its version, e.g. http://127.0.0.1:8080/v1 (see chatCompletionsUrl). */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  timeoutMs?: number;
  log?: Logger;
}

const BODY_SNIPPET_CHARS = 200;

function replyContent(payload: unknown): string | null {
  if (typeof payload !== "object" || payload === null) return null;
  const choices = (payload as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return null;
  const message = (choices[0] as { message?: unknown } | undefined)?.message;
  if (typeof message !== "object" || message === null) return null;
  const content = (message as { content?: unknown }).content;
  return typeof content === "string" && content.trim() !== "" ? content.trim() : null;
}

const isTimeout = (error: unknown): boolean => error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
const describeError = (error: unknown): string => (error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}` : String(error));

/** Asks an OpenAI-compatible `/chat/completions` endpoint; any failure becomes a logged error and an apology. */
export function openAiResponder(options: OpenAiResponderOptions): Responder {
  const endpoint = chatCompletionsUrl(options.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
  const log = options.log ?? (() => undefined);
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (options.apiKey) headers["authorization"] = `Bearer ${options.apiKey}`;

  const failed = (reason: string, fields: Record<string, unknown>): string => {
    log({ event: "llm_request_failed", endpoint, ...fields });
    return apology(reason);
  };

  return async ({ text, history }) => {
    const body = JSON.stringify({
      model: options.model,
      messages: [{ role: "system", content: SYSTEM_PROMPT }, ...history, { role: "user", content: text }],
    });
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(endpoint, { method: "POST", headers, body, signal });
    } catch (error) {
      if (isTimeout(error)) return failed("my language model took too long to answer", { reason: "timeout", timeout_ms: timeoutMs });
      return failed("my language model could not be reached", { reason: "unreachable", error: describeError(error) });
    }
    let payloadText: string;
    try {
      payloadText = await response.text();
    } catch (error) {
      if (isTimeout(error)) return failed("my language model took too long to answer", { reason: "timeout", timeout_ms: timeoutMs });
      return failed("my language model's answer was cut off", { reason: "body_failed", status: response.status, error: describeError(error) });
    }
    if (!response.ok) {
      return failed(`my language model answered with an error (HTTP ${response.status})`, {
        reason: "http_error",
        status: response.status,
        body: payloadText.slice(0, BODY_SNIPPET_CHARS),
      });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(payloadText);
    } catch {
      payload = null;
    }
    const content = replyContent(payload);
    if (content === null) return failed("my language model's answer was malformed", { reason: "malformed", body: payloadText.slice(0, BODY_SNIPPET_CHARS) });
    return content;
  };
}

/**
 * BURROW_AGENT_LLM_URL set: the OpenAI-compatible responder (BURROW_AGENT_LLM_MODEL, default
 * gpt-4o-mini; BURROW_AGENT_LLM_KEY, optional; BURROW_AGENT_LLM_TIMEOUT_MS, default 60000).
 * Otherwise the echo responder. Throws on a malformed URL or timeout, so a misconfigured agent fails at start.
 */
export function responderFromEnv(env: Record<string, string | undefined>, log?: Logger): Responder {
  const url = env["BURROW_AGENT_LLM_URL"]?.trim();
  if (!url) {
    log?.({ event: "responder", kind: "echo" });
    return echoResponder;
  }
  const model = env["BURROW_AGENT_LLM_MODEL"]?.trim() || DEFAULT_LLM_MODEL;
  const apiKey = env["BURROW_AGENT_LLM_KEY"]?.trim() || undefined;
  const timeoutText = env["BURROW_AGENT_LLM_TIMEOUT_MS"]?.trim();
  const timeoutMs = timeoutText ? Number(timeoutText) : DEFAULT_LLM_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`BURROW_AGENT_LLM_TIMEOUT_MS must be a positive integer, got ${timeoutText}`);
  const responder = openAiResponder({ url, model, apiKey, timeoutMs, ...(log ? { log } : {}) });
  log?.({ event: "responder", kind: "openai", endpoint: chatCompletionsUrl(url), model, api_key: apiKey ? "set" : "none" });
  return responder;
}
