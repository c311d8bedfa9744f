import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningServer, startServer } from "../../src/api/server.js";
import { deleteNamespaces } from "../../src/lab/iproute.js";
import { Lab } from "../../src/lab/lab.js";
import { instanceNamespace, routerNamespace } from "../../src/lab/names.js";
import { type ProbeResult, Prober, type ProbeTarget, parseProbeTarget } from "../../src/lab/probe.js";

// A ringfence server running the lab, driven by the real `aws` CLI: what the end-to-end tests and
// the propagation benchmark stand on. Everything it launched is removed by close(), also after a
// failed test (the lab tears down its namespaces; anything recorded here is swept again).

export const AWS_CLI = "/usr/bin/aws";

export class AwsCliError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`aws ${args.join(" ")}: ${stderr.trim()}`);
  }
}

export interface LaunchedInstance {
  readonly id: string;
  readonly ip: string;
  readonly ipv6?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON output, read field by field by tests
export type AwsOutput = any;

export class LabServer {
  readonly prober = new Prober(400);
  private readonly vpcs = new Set<string>();
  private readonly instances = new Set<string>();

  private constructor(
    readonly server: RunningServer,
    readonly lab: Lab,
    private readonly home: string,
  ) {}

  static async start(): Promise<LabServer> {
    const home = await mkdtemp(join(tmpdir(), "rf-lab-e2e-"));
    const lab = new Lab();
    const server = await startServer({
      listen: "127.0.0.1:0",
      dataDir: join(home, "data"),
      runtime: lab,
      log: () => {},
    });
    return new LabServer(server, lab, home);
  }

  /** Runs `aws ec2 ARGS...` against the server; parsed JSON output (undefined when it prints none). */
  ec2(...args: string[]): Promise<AwsOutput> {
    const full = ["ec2", ...args, "--endpoint-url", this.server.url, "--output", "json"];
    return new Promise((resolve, reject) => {
      const child = spawn(AWS_CLI, full, {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: this.home,
          AWS_ACCESS_KEY_ID: this.server.accessKeyId,
          AWS_SECRET_ACCESS_KEY: this.server.secretAccessKey,
          AWS_DEFAULT_REGION: this.server.region,
          AWS_CONFIG_FILE: join(this.home, "no-config"),
          AWS_SHARED_CREDENTIALS_FILE: join(this.home, "no-credentials"),
          AWS_PAGER: "",
          AWS_EC2_METADATA_DISABLED: "true",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
      });
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
      });
      child.on("error", reject);
      child.on("close", (code) => {
        if (code !== 0) reject(new AwsCliError(args, stderr));
        else resolve(stdout.trim() === "" ? undefined : JSON.parse(stdout));
      });
    });
  }

  async vpc(cidr: string, ipv6 = false): Promise<string> {
    const out = await this.ec2(
      "create-vpc",
      "--cidr-block",
      cidr,
      ...(ipv6 ? ["--amazon-provided-ipv6-cidr-block"] : []),
    );
    const id = out.Vpc.VpcId as string;
    this.vpcs.add(id);
    return id;
  }

  async subnet(vpcId: string, cidr: string, ipv6Cidr?: string): Promise<string> {
    const out = await this.ec2(
      "create-subnet",
      "--vpc-id",
      vpcId,
      "--cidr-block",
      cidr,
      ...(ipv6Cidr ? ["--ipv6-cidr-block", ipv6Cidr] : []),
    );
    return out.Subnet.SubnetId as string;
  }

  async group(vpcId: string, name: string): Promise<string> {
    const out = await this.ec2(
      "create-security-group",
      "--vpc-id",
      vpcId,
      "--group-name",
      name,
      "--description",
      name,
    );
    return out.GroupId as string;
  }

  /** Launches instances with the given groups (none: the VPC's default group). */
  async launch(
    subnetId: string,
    groupIds: readonly string[],
    count = 1,
    extra: string[] = [],
  ): Promise<LaunchedInstance[]> {
    const out = await this.ec2(
      "run-instances",
      "--image-id",
      "ami-12345678",
      "--count",
      String(count),
      "--subnet-id",
      subnetId,
      ...(groupIds.length > 0 ? ["--security-group-ids", ...groupIds] : []),
      ...extra,
    );
    return (out.Instances as AwsOutput[]).map((i) => {
      const id = i.InstanceId as string;
      this.instances.add(id);
      const ipv6 = i.NetworkInterfaces?.[0]?.Ipv6Addresses?.[0]?.Ipv6Address as string | undefined;
      return { id, ip: i.PrivateIpAddress as string, ...(ipv6 ? { ipv6 } : {}) };
    });
  }

  /** Probes from one instance to another's address (IPv4 unless `ipv6`). */
  probe(
    from: LaunchedInstance,
    to: LaunchedInstance,
    target: ProbeTarget | string,
    options: { ipv6?: boolean; timeoutMs?: number } = {},
  ): Promise<ProbeResult> {
    const parsed = typeof target === "string" ? parseTarget(target) : target;
    const address = options.ipv6 ? to.ipv6 : to.ip;
    if (!address) throw new Error(`${to.id} has no ${options.ipv6 ? "IPv6" : "IPv4"} address`);
    return this.prober.probe(
      instanceNamespace(from.id),
      instanceNamespace(to.id),
      address,
      parsed,
      options.timeoutMs,
    );
  }

  async close(): Promise<void> {
    try {
      await this.prober.close();
      await this.server.close();
    } finally {
      await deleteNamespaces([
        ...[...this.instances].map(instanceNamespace),
        ...[...this.vpcs].map(routerNamespace),
      ]);
      await rm(this.home, { recursive: true, force: true });
    }
  }
}

function parseTarget(text: string): ProbeTarget {
  const target = parseProbeTarget(text);
  if (!target) throw new Error(`bad probe target ${text}`);
  return target;
}
