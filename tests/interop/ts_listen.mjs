// A client written with the official MCP TypeScript SDK (its Client and its
// WebSocketClientTransport on the ws package's WebSocket) that listens: run under Node 22
// by the notification bus's tests.
//
// Usage: node ts_listen.mjs PACKAGES URL URI COUNT
//
// It opens a session, subscribes to the resource URI, prints "subscribed", then prints
// the method of each resource-updated and tool-list-changed notification, one JSON line
// each, and once COUNT came, closes and exits.

import { createRequire } from "node:module";
import { join } from "node:path";

const [packages, url, uri, count] = process.argv.slice(2);
const require = createRequire(join(packages, "package.json"));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { WebSocketClientTransport } = require("@modelcontextprotocol/sdk/client/websocket.js");
const types = require("@modelcontextprotocol/sdk/types.js");
globalThis.WebSocket = require("ws").WebSocket;

const client = new Client({ name: "ts-sdk-listener", version: "1.0.0" });
let heard = 0;
let done;
const finished = new Promise((resolve) => {
  done = resolve;
});
const note = (notification) => {
  console.log(JSON.stringify({ method: notification.method, params: notification.params ?? {} }));
  heard += 1;
  if (heard === Number(count)) {
    done();
  }
};
client.setNotificationHandler(types.ResourceUpdatedNotificationSchema, note);
client.setNotificationHandler(types.ToolListChangedNotificationSchema, note);
await client.connect(new WebSocketClientTransport(new URL(url)));
await client.subscribeResource({ uri });
console.log("subscribed");
await finished;
await client.close();
