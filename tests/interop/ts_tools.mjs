// A client written with the official MCP TypeScript SDK (its Client and its
// WebSocketClientTransport on the ws package's WebSocket), run under Node 22 by the tests
// of servers of other libraries served by mcpws.
//
// Usage: node ts_tools.mjs PACKAGES URL TOOL ARGUMENTS_JSON
//
// It opens a session, lists the tools, calls TOOL with the arguments, asks for a tool that
// does not exist, and prints what it saw as one JSON object.

import { createRequire } from "node:module";
import { join } from "node:path";

const [packages, url, tool, args] = process.argv.slice(2);
const require = createRequire(join(packages, "package.json"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { WebSocketClientTransport } = require("@modelcontextprotocol/sdk/client/websocket.js");
globalThis.WebSocket = require("ws").WebSocket;

const transport = new WebSocketClientTransport(new URL(url));
const client = new Client({ name: "ts-sdk-peer", version: "1.0.0" });
await client.connect(transport);
const seen = {
  server: client.getServerVersion().name,
  subprotocol: transport._socket.protocol,
  tools: (await client.listTools()).tools.map((each) => each.name),
};
const result = await client.callTool({ name: tool, arguments: JSON.parse(args) });
seen.result = {
  isError: result.isError ?? false,
  text: result.content.map((block) => block.text).join(" "),
  structured: result.structuredContent ?? null,
};
try {
  const unknown = await client.callTool({ name: "no-such-tool", arguments: {} });
  seen.unknown = { isError: unknown.isError ?? false };
} catch (error) {
  seen.unknown = { code: error.code };
}
await client.close();
console.log(JSON.stringify(seen));
