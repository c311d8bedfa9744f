// A lab server restarted on its data directory brings its running instances back before it
// answers, and leaves stopped ones down.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { EC2Client, RunInstancesCommand, StopInstancesCommand } from "@aws-sdk/client-ec2";
import { type RunningServer, startServer } from "../../src/api/server.js";
import { deleteNamespaces, listNamespaces } from "../../src/lab/iproute.js";
import { Lab } from "../../src/lab/lab.js";
import { instanceNamespace } from "../../src/lab/names.js";

const isRoot = process.getuid?.() === 0;
const dataDir = mkdtempSync(join(tmpdir(), "ringfence-lab-restart-"));
const created: string[] = [];
let server: RunningServer | undefined;

after(async () => {
  await server?.close();
  const present = await listNamespaces();
  await deleteNamespaces(created.filter((ns) => present.includes(ns)));
  rmSync(dataDir, { recursive: true, force: true });
});

const start = () => startServer({ listen: "127.0.0.1:0", dataDir, runtime: new Lab(), log: () => {} });
const client = (s: RunningServer) =>
  new EC2Client({
    endpoint: s.url,
    region: s.region,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
  });

test("running instances come back after a restart, stopped ones stay down", {
  skip: !isRoot && "needs root",
}, async () => {
  server = await start();
  let ec2 = client(server);
  const run = await ec2.send(new RunInstancesCommand({ ImageId: "ami-1", MinCount: 2, MaxCount: 2 }));
  const [running, stopped] = (run.Instances ?? []).map((i) => i.InstanceId as string) as [string, string];
  created.push(instanceNamespace(running), instanceNamespace(stopped));
  await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] }));
  let namespaces = await listNamespaces();
  assert.ok(namespaces.includes(instanceNamespace(running)));
  assert.ok(!namespaces.includes(instanceNamespace(stopped)));
  ec2.destroy();
  await server.close();
  server = undefined;
  assert.ok(
    !(await listNamespaces()).includes(instanceNamespace(running)),
    "closing the lab takes its namespaces down",
  );

  server = await start();
  namespaces = await listNamespaces();
  assert.ok(namespaces.includes(instanceNamespace(running)), "the running instance is back");
  assert.ok(!namespaces.includes(instanceNamespace(stopped)));
  ec2 = client(server);
  ec2.destroy();
});
