// A client written with the official MCP TypeScript SDK (its Client and its
// WebSocketClientTransport), run by tests/interop/test_interop_typescript.py under Node 22.
//
// Usage: node ts_client.mjs PACKAGES URL node|ws
//
// PACKAGES is the folder whose node_modules holds the SDK and ws. "node" keeps Node's own
// WebSocket (undici's); "ws" puts the ws package's in its place before the transport is
// made. The script opens a session, uses the demo server's tools, and prints what it saw
// as one JSON object. The server is the demo server with the tools of held_app.py.

import { createRequire } from "node:module";
import { join } from "node:path";

const [packages, url, implementation] = process.argv.slice(2);
const require = createRequire(join(packages, "package.json"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { WebSocketClientTransport } = require("@modelcontextprotocol/sdk/client/websocket.js");
const { McpError } = require("@modelcontextprotocol/sdk/types.js");
const { WebSocket: WsWebSocket } = require("ws");

const NodeWebSocket = globalThis.WebSocket;
if (implementation === "ws") {
  globalThis.WebSocket = WsWebSocket;
} else if (implementation !== "node") {
  throw new Error(`no such WebSocket implementation: ${implementation}`);
}

const seen = { node: process.version, errors: [] };
const transport = new WebSocketClientTransport(new URL(url));
transport.setProtocolVersion = (revision) => {
  seen.revision = revision;
};
const client = new Client({ name: "ts-sdk-peer", version: "1.0.0" });
client.onerror = (error) => seen.errors.push(String(error));
await client.connect(transport);

// The socket the transport opened, and the messages it hands the client, as they arrive.
const socket = transport._socket;
seen.websocket =
  socket instanceof WsWebSocket ? "ws" : socket instanceof NodeWebSocket ? "node" : "other";
seen.subprotocol = socket.protocol;
const arrived = [];
const deliver = transport.onmessage;
transport.onmessage = (message, extra) => {
  arrived.push(message);
  deliver(message, extra);
};

seen.server = client.getServerVersion();
seen.tools = (await client.listTools()).tools.map((tool) => tool.name);

const text = (result) => result.content.map((block) => block.text).join(" ");
const call = async (name, args, options) => {
  const result = await client.callTool({ name, arguments: args }, undefined, options);
  return { isError: result.isError ?? false, text: text(result), structured: result.structuredContent };
};
seen.add = await call("add", { a: 2, b: 3 });
seen.echo = await call("echo", { text: "hi", times: 2 });
seen.divide = await call("divide", { a: 1, b: 0 });

const delivered = [];
const errorsBefore = seen.errors.length;
const counted = await call("countdown", { start: 3 }, { onprogress: (p) => delivered.push(p) });
// The SDK hands notifications to their handlers a microtask late, responses at once: a
// progress notification read together with the response finds its token retired, and the
// SDK reports it as an error (before this call's result is handed back here).
seen.countdown = {
  result: counted.text,
  arrived: arrived.filter((message) => message.method === "notifications/progress"),
  delivered,
  dropped: seen.errors.slice(errorsBefore),
};
seen.errors = seen.errors.slice(0, errorsBefore);

// Progress that comes well before the answer: hold answers once release has been called,
// and this client calls it only when the progress has reached onprogress.
const held = [];
let released = null;
const onprogress = (update) => {
  held.push(update);
  released ??= call("release", {});
};
seen.hold = await call("hold", {}, { onprogress, timeout: 30000 });
seen.hold.progress = held;
seen.release = await released;

try {
  await client.callTool({ name: "no-such-tool", arguments: {} });
  seen.refused = null;
} catch (error) {
  seen.refused =
    error instanceof McpError ? { code: error.code, message: error.message } : String(error);
}
seen.ping = await client.ping();

await client.close();
console.log(JSON.stringify(seen));
