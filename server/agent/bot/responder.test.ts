import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { LogLine } from "../../../core/index.js";
import { startFakeOpenAi, type FakeOpenAi } from "./fakeOpenAi.js";
import { SYSTEM_PROMPT, chatCompletionsUrl, echoResponder, echoSnippet, openAiResponder, responderFromEnv } from "./responder.js";

describe("echo responder", () => {
  test("echo_acks_a_short_message_verbatim", async () => {
    assert.equal(await echoResponder({ text: "hello", history: [] }), "ACK: hello");
  });

  test("echo_puts_the_message_on_one_trimmed_line", async () => {
    assert.equal(await echoResponder({ text: "  first line\n\nsecond\tline  ", history: [] }), "ACK: first line second line");
  });

  test("echo_cuts_long_messages_at_80_characters_with_an_ellipsis", async () => {
    const text = "x".repeat(79) + " " + "y".repeat(50);
    const reply = await echoResponder({ text, history: [] });
    assert.equal(reply, `ACK: ${"x".repeat(79)}…`, "the cut ends on no trailing space");
    assert.equal(echoSnippet("a".repeat(80)), "a".repeat(80), "exactly 80 is not cut");
    assert.equal(echoSnippet("a".repeat(81)), `${"a".repeat(80)}…`);
  });

  test("echo_never_splits_an_emoji", () => {
    const snippet = echoSnippet("😀".repeat(100));
    assert.equal(snippet, `${"😀".repeat(80)}…`);
    assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(snippet), "no lone high surrogate");
  });

  test("echo_is_deterministic_and_ignores_history", async () => {
    const history = [{ role: "user" as const, content: "earlier" }];
    assert.equal(await echoResponder({ text: "same", history }), await echoResponder({ text: "same", history: [] }));
    assert.equal(await echoResponder({ text: "   ", history: [] }), "ACK:");
  });
});

describe("chat completions URL", () => {
  test("the_endpoint_is_the_base_plus_chat_completions", () => {
    assert.equal(chatCompletionsUrl("http://127.0.0.1:8080/v1"), "http://127.0.0.1:8080/v1/chat/completions");
    assert.equal(chatCompletionsUrl("http://127.0.0.1:8080/v1/"), "http://127.0.0.1:8080/v1/chat/completions");
    assert.equal(chatCompletionsUrl("https://api.example.org/openai/v1//"), "https://api.example.org/openai/v1/chat/completions");
    assert.equal(chatCompletionsUrl("http://localhost:11434"), "http://localhost:11434/chat/completions", "the version is not guessed");
  });

  test("bad_llm_urls_are_refused_at_configuration", () => {
    assert.throws(() => chatCompletionsUrl("not a url"), /not a URL/);
    assert.throws(() => chatCompletionsUrl("ftp://example.org/v1"), /http/);
    assert.throws(() => chatCompletionsUrl("http://example.org/v1?key=1"), /query/);
    assert.throws(() => chatCompletionsUrl("http://user:secret@example.org/v1"), /credentials/);
  });
});

describe("OpenAI-compatible responder against a local fake service", () => {
  let fake: FakeOpenAi;
  before(async () => {
    fake = await startFakeOpenAi();
  });
  after(async () => {
    await fake.close();
  });

  test("posts_system_prompt_history_and_text_and_returns_the_answer", async () => {
    fake.mode = { kind: "answer", content: "  Hello from the model.  " };
    fake.requests.length = 0;
    const responder = openAiResponder({ url: fake.baseUrl, model: "test-model", apiKey: "sk-test", timeoutMs: 2000 });
    const history = [
      { role: "user" as const, content: "hi" },
      { role: "assistant" as const, content: "hello" },
    ];
    assert.equal(await responder({ text: "how are you?", history }), "Hello from the model.");
    assert.equal(fake.requests.length, 1);
    const request = fake.requests[0]!;
    assert.equal(request.method, "POST");
    assert.equal(request.path, "/v1/chat/completions");
    assert.equal(request.authorization, "Bearer sk-test");
    assert.deepEqual(request.body, {
      model: "test-model",
      messages: [{ role: "system", content: SYSTEM_PROMPT }, ...history, { role: "user", content: "how are you?" }],
    });
    assert.match(SYSTEM_PROMPT, /^You are the user's personal Burrow agent/);
  });

  test("no_api_key_sends_no_authorization", async () => {
    fake.mode = { kind: "answer", content: "ok" };
    fake.requests.length = 0;
    await openAiResponder({ url: fake.baseUrl, model: "m" })({ text: "x", history: [] });
    assert.equal(fake.requests[0]?.authorization, null);
  });

  test("an_http_error_becomes_an_apology_and_a_log_line", async () => {
    fake.mode = { kind: "error", status: 500 };
    const logs: LogLine[] = [];
    const reply = await openAiResponder({ url: fake.baseUrl, model: "m", log: (line) => logs.push(line) })({ text: "x", history: [] });
    assert.equal(reply, "Sorry, I can't answer right now: my language model answered with an error (HTTP 500). Please try again in a moment.");
    assert.equal(logs.length, 1);
    assert.equal(logs[0]?.event, "llm_request_failed");
    assert.equal(logs[0]?.["status"], 500);
    assert.match(String(logs[0]?.["body"]), /overloaded/);
  });

  test("a_stalled_service_times_out_into_an_apology", async () => {
    fake.mode = { kind: "stall" };
    const logs: LogLine[] = [];
    const started = Date.now();
    const reply = await openAiResponder({ url: fake.baseUrl, model: "m", timeoutMs: 300, log: (line) => logs.push(line) })({ text: "x", history: [] });
    assert.ok(Date.now() - started < 2000);
    assert.match(reply, /^Sorry, I can't answer right now: my language model took too long to answer\./);
    assert.equal(logs[0]?.["reason"], "timeout");
  });

  test("malformed_answers_become_an_apology", async () => {
    for (const body of ["not json", "{}", JSON.stringify({ choices: [] }), JSON.stringify({ choices: [{ message: { content: "   " } }] }), JSON.stringify({ choices: [{ message: { content: 42 } }] })]) {
      fake.mode = { kind: "malformed", body };
      const logs: LogLine[] = [];
      const reply = await openAiResponder({ url: fake.baseUrl, model: "m", log: (line) => logs.push(line) })({ text: "x", history: [] });
      assert.match(reply, /answer was malformed/, body);
      assert.equal(logs[0]?.["reason"], "malformed", body);
    }
  });

  test("an_unreachable_service_becomes_an_apology", async () => {
    const logs: LogLine[] = [];
    const reply = await openAiResponder({ url: "http://127.0.0.1:9/v1", model: "m", timeoutMs: 2000, log: (line) => logs.push(line) })({ text: "x", history: [] });
    assert.match(reply, /could not be reached/);
    assert.equal(logs[0]?.["reason"], "unreachable");
  });

  test("responder_from_env_uses_the_llm_when_its_url_is_set_else_echo", async () => {
    fake.mode = { kind: "answer", content: "from env" };
    fake.requests.length = 0;
    const logs: LogLine[] = [];
    const llm = responderFromEnv({ BURROW_AGENT_LLM_URL: fake.baseUrl, BURROW_AGENT_LLM_KEY: "sk-env" }, (line) => logs.push(line));
    assert.equal(await llm({ text: "x", history: [] }), "from env");
    assert.equal((fake.requests[0]?.body as { model: string }).model, "gpt-4o-mini");
    assert.equal(fake.requests[0]?.authorization, "Bearer sk-env");
    assert.deepEqual(logs[0], { event: "responder", kind: "openai", endpoint: `${fake.baseUrl}/chat/completions`, model: "gpt-4o-mini", api_key: "set" });
    assert.ok(!JSON.stringify(logs).includes("sk-env"), "the key is never logged");

    const echo = responderFromEnv({ BURROW_AGENT_LLM_URL: "  ", BURROW_AGENT_LLM_MODEL: "ignored" });
    assert.equal(echo, echoResponder);
    assert.throws(() => responderFromEnv({ BURROW_AGENT_LLM_URL: fake.baseUrl, BURROW_AGENT_LLM_TIMEOUT_MS: "soon" }), /TIMEOUT_MS/);
  });
});
