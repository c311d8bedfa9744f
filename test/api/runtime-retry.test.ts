// The server and the runtime that runs its instances (the lab): a sync that fails is tried again
// on its own, so a change is not left unenforced until the next one comes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CreateSecurityGroupCommand, RunInstancesCommand } from "@aws-sdk/client-ec2";
import type { Estate } from "../../src/model/estate.js";
import type { InstanceRuntime } from "../../src/model/instance-runtime.js";
import { startControlPlane } from "../support/control-plane.js";

/** A runtime whose first syncs fail, as the lab's do when its namespaces vanish under it. */
class FlakyRuntime implements InstanceRuntime {
  readonly synced: { estate: Estate; revision: number }[] = [];
  failures: number;
  constructor(failures: number) {
    this.failures = failures;
  }
  async sync(estate: Estate, revision: number): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error("Cannot open network namespace");
    }
    this.synced.push({ estate, revision });
  }
  async close(): Promise<void> {}
}

test("a failed runtime sync is tried again until it succeeds, with no further request", async () => {
  const runtime = new FlakyRuntime(0);
  const log: string[] = [];
  const cp = await startControlPlane({ runtime, log: (line) => log.push(line) });
  try {
    runtime.failures = 2;
    const run = await cp.ec2.send(new RunInstancesCommand({ ImageId: "ami-1", MinCount: 1, MaxCount: 1 }));
    const id = run.Instances?.[0]?.InstanceId as string;
    const deadline = Date.now() + 5000;
    while (!runtime.synced.some((s) => s.estate.instances.some((i) => i.id === id))) {
      assert.ok(Date.now() < deadline, `no sync with the new instance; log: ${log.join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(log.filter((line) => line.includes("runtime sync failed, trying again")).length, 2);
    assert.equal(runtime.synced.at(-1)?.revision, cp.server.store.revision);
  } finally {
    await cp.close();
  }
});

test("failing syncs of many requests leave one retry pending, and none after the server closed", async () => {
  const runtime = new FlakyRuntime(0);
  const log: string[] = [];
  const cp = await startControlPlane({ runtime, log: (line) => log.push(line) });
  let calls = 0;
  runtime.sync = async () => {
    calls += 1;
    throw new Error("always");
  };
  await Promise.all(
    Array.from({ length: 6 }, (_, k) =>
      cp.ec2.send(new CreateSecurityGroupCommand({ GroupName: `g${k}`, Description: "g" })),
    ),
  );
  // each request's sync fails once; one retry follows, at the first delay
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.equal(calls, 7, log.join("\n"));
  assert.match(log.at(-1) ?? "", /trying again in 1000 ms/, "the retry that failed doubled the delay");
  await cp.close();
  const atClose = calls;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(calls, atClose, "no sync after close");
});
