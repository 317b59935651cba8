#!/usr/bin/env node
// Starts @vercel/cosmosdb-server (pinned 1.0.1) with the few corrections that
// Microsoft.Azure.Cosmos 3.x in Gateway mode needs, patched in-process so there is
// one process, one port and no extra hop:
//   1. a missing item answers 404 NotFound (the stock server throws and answers 500,
//      so an adapter could not tell "missing" from a server fault);
//   2. query-plan requests (x-ms-cosmos-is-query-plan-request) get a pass-through plan
//      over the single partition-key range the server exposes, so ORDER BY, TOP,
//      DISTINCT, aggregates and cross-partition queries are executed by the server
//      itself in one pass (it has one range, so its answer is already complete);
//   3. a query sent with a partition-key header only sees that partition's items
//      (the stock server ignores the header);
//   4. resource ids are written as the real service writes them, base64 with '-' for
//      '/', so a rid is one URL path segment (the SDK addresses partition-key ranges by
//      collection rid; a '/' in it made some cross-partition queries fail with 404).
// Usage: node cosmos-compat-server.js --port 8081 --host 127.0.0.1 --module-dir <node_modules>
"use strict";

const path = require("path");

function parseArgs(argv) {
  const args = { port: 8081, host: "127.0.0.1", moduleDir: null };
  for (let i = 0; i < argv.length; i += 1) {
    const key = argv[i];
    const value = argv[i + 1];
    if (key === "--port") { args.port = parseInt(value, 10); i += 1; }
    else if (key === "--host") { args.host = value; i += 1; }
    else if (key === "--module-dir") { args.moduleDir = value; i += 1; }
    else { throw new Error(`unknown argument ${key}`); }
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const serverRoot = args.moduleDir
  ? path.resolve(args.moduleDir, "@vercel", "cosmosdb-server")
  : path.dirname(require.resolve("@vercel/cosmosdb-server/package.json"));
const lib = (name) => require(path.join(serverRoot, "lib", name));

const PK_HEADER = "x-ms-documentdb-partitionkey";

function isTrueHeader(req, name) {
  const value = req.headers[name];
  return typeof value === "string" && value.toLowerCase() === "true";
}

function notFound(res) {
  res.statusCode = 404;
  return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
}

// Partition value the stock server would use for a document addressed with this header.
function partitionFromHeader(req, docId) {
  const { parsePartitionKey } = lib("utils/get-partition-from-header");
  const raw = req.headers[PK_HEADER];
  const header = Array.isArray(raw) ? raw[0] : raw;
  if (!header || header === "[{}]") return undefined;
  try { return parsePartitionKey(header, docId); } catch { return undefined; }
}

// 1. Point operations on a missing item: answer 404 before the stock handler trips over it.
for (const name of ["read-document", "replace-document", "delete-document", "patch-document"]) {
  const mod = lib(`handler/${name}`);
  const stock = mod.default;
  mod.default = async (account, req, res, params) => {
    const collection = account.database(params.dbId).collection(params.collId);
    if (collection.read()) {
      const partition = partitionFromHeader(req, params.docId);
      if (!collection.document(params.docId, partition).read()) return notFound(res);
    }
    return stock(account, req, res, params);
  };
}

// 2 and 3. Queries on documents.
const { AsyncLocalStorage } = require("async_hooks");
const queryModule = lib("handler/query-documents");
const stockQuery = queryModule.default;
const Items = lib("account/items").default;
const stockItemsQuery = Items.prototype.query;
// The partition the current request's query is restricted to (per request, so
// concurrent queries on the same container cannot see each other's restriction).
const queryPartition = new AsyncLocalStorage();
Items.prototype.query = function queryWithinPartition(params, options) {
  const scope = queryPartition.getStore();
  if (!scope) return stockItemsQuery.call(this, params, options);
  const all = this._data;
  const wanted = JSON.stringify(scope.partition);
  this._data = new Map([...all].filter(([, item]) => {
    const data = item.read();
    return data && JSON.stringify(this._getPartition(data)) === wanted;
  }));
  // exec is synchronous, so the swap is never observed by another request.
  try { return stockItemsQuery.call(this, params, options); } finally { this._data = all; }
};

function passThroughPlan() {
  return {
    partitionedQueryExecutionInfoVersion: 2,
    queryInfo: {
      distinctType: "None",
      top: null,
      offset: null,
      limit: null,
      orderBy: [],
      orderByExpressions: [],
      groupByExpressions: [],
      groupByAliases: [],
      aggregates: [],
      groupByAliasToAggregateType: {},
      rewrittenQuery: "",
      hasSelectValue: false,
      hasNonStreamingOrderBy: false,
    },
    queryRanges: [{ min: "", max: "FF", isMinInclusive: true, isMaxInclusive: false }],
  };
}

queryModule.default = async (account, req, res, params) => {
  if (isTrueHeader(req, "x-ms-cosmos-is-query-plan-request")) {
    // Drain the body; the plan does not depend on it.
    for await (const chunk of req) { void chunk; }
    return passThroughPlan();
  }
  const raw = req.headers[PK_HEADER];
  const header = Array.isArray(raw) ? raw[0] : raw;
  let partition;
  if (header && header !== "[{}]") {
    try {
      const parsed = JSON.parse(header);
      partition = Array.isArray(parsed) ? parsed[0] : parsed;
    } catch {
      res.statusCode = 400;
      return { code: "BadRequest", message: `unparsable ${PK_HEADER} header` };
    }
    // The stock handler insists the query text names the partition key; with the
    // header it is not needed, so let it through as a cross-partition query.
    req.headers["x-ms-documentdb-query-enablecrosspartition"] = "true";
  }
  if (partition === undefined) return stockQuery(account, req, res, params);
  return queryPartition.run({ partition }, () => stockQuery(account, req, res, params));
};

// 4. URL-safe resource ids (all '/' become '-', and back when parsed).
const ResourceId = lib("account/resource-id").default;
ResourceId.toBase64String = (buffer) => buffer.toString("base64").replace(/\//g, "-");
ResourceId.fromBase64String = (s) => Buffer.from(s.replace(/-/g, "/"), "base64");

const { createHttpsServer } = lib("index");
// Keep connections open, as the real gateway does: the stock server answers every request with
// "Connection: close", so each SDK call paid a new TCP connection and TLS handshake on both sides.
// Idle connections stay longer than the SDK's pool keeps them (SocketsHttpHandler: 1 min), so the
// client is the one to close them and never reuses a connection the server is closing.
const server = createHttpsServer({ keepAlive: true });
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen(args.port, args.host, () => {
  const { address, port } = server.address();
  console.log(`cosmos-compat ready on https://${address}:${port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
