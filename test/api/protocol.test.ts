// The EC2 Query protocol as raw HTTP: requests are signed by the SDK's own SigV4 signer, so the
// server's verification is checked against an independent implementation.

import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { SignatureV4 } from "@smithy/signature-v4";
import { startControlPlane, type TestControlPlane } from "../support/control-plane.js";

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData) =>
  typeof data === "string"
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: SourceData) {
    this.hash.update(bytes(data));
  }
  reset() {}
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

let cp: TestControlPlane;

before(async () => {
  cp = await startControlPlane();
});
after(async () => {
  await cp.close();
});

interface RawOptions {
  body?: string | Buffer;
  method?: "GET" | "POST";
  query?: Record<string, string>;
  secret?: string;
  accessKeyId?: string;
  signingDate?: Date;
  region?: string;
  unsigned?: boolean;
  /** Changes the body after signing. */
  tamper?: (body: string) => string;
}

async function raw(options: RawOptions): Promise<{ status: number; body: string; headers: Headers }> {
  const url = new URL(cp.server.url);
  const body = options.body ?? "";
  const headers: Record<string, string> = {
    host: url.host,
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
  };
  let sent: Record<string, string> = headers;
  if (!options.unsigned) {
    const signer = new SignatureV4({
      service: "ec2",
      region: options.region ?? "us-east-1",
      credentials: {
        accessKeyId: options.accessKeyId ?? cp.server.accessKeyId,
        secretAccessKey: options.secret ?? cp.server.secretAccessKey,
      },
      sha256: Sha256,
    });
    const signed = await signer.sign(
      {
        method: options.method ?? "POST",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        query: options.query ?? {},
        headers,
        body,
      },
      { signingDate: options.signingDate },
    );
    sent = signed.headers as Record<string, string>;
  }
  const query = new URLSearchParams(options.query ?? {}).toString();
  const finalBody = typeof body === "string" && options.tamper ? options.tamper(body) : body;
  const response = await fetch(`${cp.server.url}/${query ? `?${query}` : ""}`, {
    method: options.method ?? "POST",
    headers: Object.fromEntries(Object.entries(sent).filter(([k]) => k !== "host")),
    body:
      (options.method ?? "POST") === "POST"
        ? typeof finalBody === "string"
          ? finalBody
          : new Uint8Array(finalBody)
        : undefined,
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

function errorOf(body: string): { code: string; message: string } {
  const match =
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>([^<]+)<\/Code><Message>([^<]*)<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/.exec(
      body,
    );
  assert.ok(match, `not an EC2 error body: ${body}`);
  return { code: match[1] as string, message: match[2] as string };
}

const form = (params: Record<string, string>) =>
  new URLSearchParams({ Version: "2016-11-15", ...params }).toString();

describe("envelope", () => {
  test("a success answers <ActionResponse> in the EC2 namespace with a requestId first", async () => {
    const { status, body } = await raw({ body: form({ Action: "DescribeVpcs" }) });
    assert.equal(status, 200);
    assert.match(
      body,
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<DescribeVpcsResponse xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId><vpcSet><item><cidrBlock>172\.31\.0\.0\/16<\/cidrBlock>/,
    );
  });

  test("every answer is framed by Content-Length, counted in UTF-8 bytes, never chunked", async () => {
    const created = await raw({
      body: form({ Action: "CreateSecurityGroup", GroupName: "framed", GroupDescription: "framed" }),
    });
    const groupId = /<groupId>(sg-[0-9a-f]+)<\/groupId>/.exec(created.body)?.[1] as string;
    await raw({
      body: form({
        Action: "CreateTags",
        "ResourceId.1": groupId,
        "Tag.1.Key": "city",
        "Tag.1.Value": "Zürich ☃",
      }),
    });
    const described = await raw({
      body: form({ Action: "DescribeTags", "Filter.1.Name": "key", "Filter.1.Value.1": "city" }),
    });
    const refused = await raw({ body: form({ Action: "DescribeSecurityGroups", "GroupId.1": "sg-nope" }) });
    assert.match(described.body, /Zürich ☃/);
    for (const { status, body, headers } of [described, refused]) {
      assert.ok(status === 200 || status === 400);
      assert.equal(headers.get("transfer-encoding"), null);
      assert.equal(Number(headers.get("content-length")), Buffer.byteLength(body, "utf8"));
    }
    assert.ok(Buffer.byteLength(described.body, "utf8") > described.body.length);
  });

  test("operations without output answer <return>true</return>", async () => {
    const created = await raw({
      body: form({ Action: "CreateSecurityGroup", GroupName: "raw", GroupDescription: "raw" }),
    });
    const groupId = /<groupId>(sg-[0-9a-f]+)<\/groupId>/.exec(created.body)?.[1] as string;
    const { status, body } = await raw({
      body: form({ Action: "CreateTags", "ResourceId.1": groupId, "Tag.1.Key": "k", "Tag.1.Value": "" }),
    });
    assert.equal(status, 200);
    assert.match(
      body,
      /<CreateTagsResponse xmlns="[^"]+"><requestId>[^<]+<\/requestId><return>true<\/return><\/CreateTagsResponse>$/,
    );
  });

  test("GET with the parameters in the query string works like POST", async () => {
    const { status, body } = await raw({
      method: "GET",
      query: { Action: "DescribeRegions", Version: "2016-11-15", "RegionName.1": "eu-west-1" },
    });
    assert.equal(status, 200);
    assert.match(body, /<regionName>eu-west-1<\/regionName>/);
    assert.doesNotMatch(body, /us-east-1/);
  });

  test("unknown and missing actions, unknown parameters", async () => {
    let r = await raw({ body: form({ Action: "LaunchMissiles" }) });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidAction"]);
    r = await raw({ body: "Version=2016-11-15" });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "MissingAction"]);
    r = await raw({ body: form({ Action: "CreateSecurityGroup", GroupName: "x", Description: "y" }) });
    assert.deepEqual(
      [r.status, errorOf(r.body)],
      [400, { code: "UnknownParameter", message: "The parameter Description is not recognized" }],
    );
    r = await raw({ body: form({ Action: "DescribeSecurityGroups", "GroupId.1.Nested": "sg-1" }) });
    assert.equal(errorOf(r.body).code, "UnknownParameter");
    // a list position is a plain number: `01` next to `1` would be a second element at position 1
    r = await raw({
      body: form({ Action: "DescribeSecurityGroups", "GroupId.01": "sg-1", "GroupId.1": "sg-2" }),
    });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "UnknownParameter"]);
    // one name given twice is refused rather than guessed at, also once in the query, once in the body
    r = await raw({ body: `${form({ Action: "DescribeSecurityGroups" })}&MaxResults=5&MaxResults=6` });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidParameterValue"]);
    r = await raw({
      query: { MaxResults: "5" },
      body: `${form({ Action: "DescribeSecurityGroups" })}&MaxResults=6`,
    });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidParameterValue"]);
  });

  test("wrong types and missing parameters", async () => {
    let r = await raw({ body: form({ Action: "DescribeSecurityGroups", MaxResults: "many" }) });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidParameterValue"]);
    r = await raw({ body: form({ Action: "DescribeSecurityGroups", DryRun: "perhaps" }) });
    assert.equal(errorOf(r.body).code, "InvalidParameterValue");
    r = await raw({ body: form({ Action: "CreateSecurityGroup", GroupName: "only-name" }) });
    assert.deepEqual(errorOf(r.body), {
      code: "MissingParameter",
      message: "The request must contain the parameter GroupDescription",
    });
    r = await raw({ body: form({ Action: "DescribeSecurityGroups", MaxResults: "2" }) });
    assert.equal(errorOf(r.body).code, "InvalidParameterValue");
  });
});

describe("hostile input", () => {
  test("an oversized body is refused with a 400, and the server goes on", async () => {
    const huge = `${form({ Action: "DescribeVpcs" })}&Filter.1.Name=vpc-id&Filter.1.Value.1=${"a".repeat(2 * 1024 * 1024)}`;
    const r = await raw({ body: huge });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidParameterValue"]);
    const vpcs = await cp.ec2.send(new DescribeVpcsCommand({}));
    assert.ok((vpcs.Vpcs?.length ?? 0) >= 1);
  });

  test("a request target no URL parser takes is a 400, and the server goes on", async () => {
    const { port } = new URL(cp.server.url);
    for (const target of ["//[", "http://[", "//user@:99999"]) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: Number(port) }, () =>
          socket.end(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
        );
        let text = "";
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => {
          text += chunk;
        });
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
      });
      assert.match(answer, /^HTTP\/1\.1 400 /, target);
      assert.match(answer, /<Code>MalformedQueryString<\/Code>/, target);
    }
    const vpcs = await cp.ec2.send(new DescribeVpcsCommand({}));
    assert.ok((vpcs.Vpcs?.length ?? 0) >= 1);
  });

  test("bytes that are not UTF-8 are refused", async () => {
    let r = await raw({
      body: `${form({ Action: "CreateSecurityGroup", GroupDescription: "d" })}&GroupName=%FF%FE`,
    });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidParameterValue"]);
    r = await raw({
      body: Buffer.concat([
        Buffer.from(`${form({ Action: "CreateSecurityGroup", GroupDescription: "d" })}&GroupName=`),
        Buffer.from([0xc3, 0x28]),
      ]),
    });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidParameterValue"]);
  });

  test("characters XML cannot carry are refused, by code point, and nothing is written; tab and newline are kept", async () => {
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "xml-text", Description: "characters in tags" }),
    );
    const id = group.GroupId as string;
    for (const [encoded, point] of [
      ["a%01b", "U+0001"],
      ["%1B%5B31m", "U+001B"],
      ["x%00", "U+0000"],
      ["%EF%BF%BE", "U+FFFE"],
    ]) {
      const r = await raw({
        body: `${form({ Action: "CreateTags", "ResourceId.1": id, "Tag.1.Key": "ctl" })}&Tag.1.Value=${encoded}`,
      });
      assert.equal(r.status, 400);
      assert.equal(errorOf(r.body).code, "InvalidParameterValue");
      assert.equal(
        errorOf(r.body).message,
        `The value of parameter Tag.1.Value contains the character ${point}, which XML cannot carry.`,
      );
    }
    let r = await raw({ body: `${form({ Action: "DescribeVpcs" })}&Filter.1.Name=tag%02` });
    assert.equal(
      errorOf(r.body).message,
      "The value of parameter Filter.1.Name contains the character U+0002, which XML cannot carry.",
    );
    r = await raw({ body: `${form({ Action: "DescribeVpcs" })}&Bogus%02=1` });
    assert.equal(
      errorOf(r.body).message,
      "A parameter name contains the character U+0002, which XML cannot carry.",
    );
    await cp.ec2.send(
      new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "multi\tline", Value: "one\ntwo\r\n" }] }),
    );
    const described = await cp.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }));
    assert.deepEqual(described.SecurityGroups?.[0]?.Tags, [{ Key: "multi\tline", Value: "one\ntwo\r\n" }]);
  });

  test("thousands of list elements are refused, a thousand are served", async () => {
    const many = Array.from(
      { length: 5000 },
      (_, i) => `GroupId.${i + 1}=sg-${String(i).padStart(17, "0")}`,
    ).join("&");
    let r = await raw({ body: `${form({ Action: "DescribeSecurityGroups" })}&${many}` });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidParameterValue"]);
    const thousand = Array.from(
      { length: 1000 },
      (_, i) => `GroupId.${i + 1}=sg-${String(i).padStart(17, "0")}`,
    ).join("&");
    r = await raw({ body: `${form({ Action: "DescribeSecurityGroups" })}&${thousand}` });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidGroup.NotFound"]);
  });

  test("malformed ids and CIDRs get their EC2 codes, never a 500", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ Action: "DeleteSecurityGroup", GroupId: "sg-NOTHEX" }, "InvalidGroupId.Malformed"],
      [{ Action: "DescribeInstances", "InstanceId.1": "i-xyz" }, "InvalidInstanceID.Malformed"],
      [{ Action: "CreateVpc", CidrBlock: "10.0.0.0/33" }, "InvalidParameterValue"],
      [{ Action: "CreateVpc", CidrBlock: "10.0.0.0/8" }, "InvalidVpc.Range"],
      [{ Action: "DescribeVpcs", "Filter.1.Name": "vpc-id" }, "InvalidParameterValue"],
      [{ Action: "RunInstances", ImageId: "ami-1", MinCount: "2", MaxCount: "1" }, "InvalidParameterValue"],
      [
        { Action: "RunInstances", ImageId: "ami-1", MinCount: "99999999999", MaxCount: "99999999999" },
        "InstanceLimitExceeded",
      ],
    ];
    for (const [params, code] of cases) {
      const r = await raw({ body: form(params) });
      assert.equal(r.status, 400, `${params.Action}: ${r.body}`);
      assert.equal(errorOf(r.body).code, code, params.Action);
    }
  });
});

describe("names every JavaScript object answers to", () => {
  test("are no actions, filters, attributes, regions or protocols: EC2 errors, never a 500", async () => {
    const group = await raw({
      body: form({ Action: "CreateSecurityGroup", GroupName: "proto-words", GroupDescription: "x" }),
    });
    const groupId = /<groupId>([^<]+)</.exec(group.body)?.[1] as string;
    for (const word of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
      const cases: [Record<string, string>, string][] = [
        [{ Action: word }, "InvalidAction"],
        [
          { Action: "DescribeSecurityGroups", "Filter.1.Name": word, "Filter.1.Value.1": "x" },
          "InvalidParameterValue",
        ],
        [
          { Action: "DescribeInstances", "Filter.1.Name": word, "Filter.1.Value.1": "x" },
          "InvalidParameterValue",
        ],
        [{ Action: "DescribeAccountAttributes", "AttributeName.1": word }, "InvalidParameterValue"],
        [{ Action: "DescribeRegions", "RegionName.1": word }, "InvalidParameterValue"],
        [
          {
            Action: "AuthorizeSecurityGroupIngress",
            GroupId: groupId,
            "IpPermissions.1.IpProtocol": word,
            "IpPermissions.1.IpRanges.1.CidrIp": "192.0.2.0/24",
          },
          "InvalidParameterValue",
        ],
      ];
      for (const [params, code] of cases) {
        const r = await raw({ body: form(params) });
        assert.equal(r.status, 400, `${word}: ${JSON.stringify(params)} → ${r.body}`);
        assert.equal(errorOf(r.body).code, code, `${word}: ${params.Action}`);
      }
    }
    const described = await raw({ body: form({ Action: "DescribeSecurityGroups", "GroupId.1": groupId }) });
    assert.doesNotMatch(described.body, /<ipProtocol>(constructor|__proto__)/, "nothing was stored");
  });

  test("a tag may be called __proto__, and tag:constructor matches only what carries that tag", async () => {
    const created = await raw({
      body: form({ Action: "CreateSecurityGroup", GroupName: "proto-tag", GroupDescription: "x" }),
    });
    const groupId = /<groupId>([^<]+)</.exec(created.body)?.[1] as string;
    let r = await raw({
      body: form({
        Action: "CreateTags",
        "ResourceId.1": groupId,
        "Tag.1.Key": "__proto__",
        "Tag.1.Value": "kept",
      }),
    });
    assert.equal(r.status, 200, r.body);
    r = await raw({
      body: form({ Action: "DescribeTags", "Filter.1.Name": "resource-id", "Filter.1.Value.1": groupId }),
    });
    assert.match(
      r.body,
      /<key>__proto__<\/key>\s*<resourceId>[^<]+<\/resourceId>\s*<resourceType>security-group<\/resourceType>\s*<value>kept<\/value>/,
    );
    r = await raw({
      body: form({
        Action: "DescribeSecurityGroups",
        "Filter.1.Name": "tag:__proto__",
        "Filter.1.Value.1": "kept",
      }),
    });
    assert.deepEqual(
      [...r.body.matchAll(/<groupId>([^<]+)</g)].map((m) => m[1]),
      [groupId],
    );
    r = await raw({
      body: form({
        Action: "DescribeSecurityGroups",
        "Filter.1.Name": "tag:constructor",
        "Filter.1.Value.1": "*",
      }),
    });
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.body, /<groupId>/, "no group carries a tag named constructor");
  });
});

describe("wildcard filters", () => {
  test("match in time bounded by the lengths, so that no filter can stop the server", async () => {
    const created = await raw({
      body: form({
        Action: "CreateSecurityGroup",
        GroupName: "a".repeat(255),
        GroupDescription: "a".repeat(255),
      }),
    });
    assert.equal(created.status, 200, created.body);
    const started = performance.now();
    const r = await raw({
      body: form({
        Action: "DescribeSecurityGroups",
        "Filter.1.Name": "group-name",
        "Filter.1.Value.1": `${"*a".repeat(40)}*b`,
        "Filter.2.Name": "description",
        "Filter.2.Value.1": `${"*a".repeat(40)}*`,
      }),
    });
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.body, /<groupId>/, "no name ends in b");
    // a backtracking matcher takes minutes here; the bound is generous for a loaded machine
    assert.ok(performance.now() - started < 5000);
  });

  test("`*`, `?` and backslash escapes as EC2 defines them", async () => {
    const { WildcardPattern } = await import("../../src/api/filters.js");
    const cases: [string, string, boolean][] = [
      ["web-*", "web-1", true],
      ["web-*", "web-", true],
      ["web-*", "db-1", false],
      ["*", "", true],
      ["?", "", false],
      ["?", "é", true],
      ["??", "😀", false],
      ["?", "😀", true],
      ["a*b*c", "axxbyyc", true],
      ["a*b*c", "axxbyyd", false],
      ["*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true],
      ["\\*", "*", true],
      ["\\*", "x", false],
      ["a\\?", "a?", true],
      ["a\\?", "ab", false],
      ["**x**", "x", true],
      ["exact", "exact", true],
      ["exact", "exactly", false],
    ];
    for (const [pattern, text, expected] of cases) {
      assert.equal(new WildcardPattern(pattern).test(text), expected, `${pattern} ~ ${text}`);
    }
  });

  test("a filter value of a million characters is matched, not a stack overflow", async () => {
    const { FilterValues } = await import("../../src/api/filters.js");
    const long = "a".repeat(1_000_000);
    assert.equal(new FilterValues([long]).matches(long), true);
    assert.equal(new FilterValues([`${long}*`]).matches(`${long}b`), true);
    assert.equal(new FilterValues([`*${long}`]).matches(`b${long}`), true);
  });

  test("a filter's values decide as one what each value decides alone, literal or wildcard", async () => {
    const { FilterValues, WildcardPattern } = await import("../../src/api/filters.js");
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const alphabet = ["a", "b", "*", "?", "\\", "é", "😀"];
    const word = (max: number) =>
      Array.from(
        { length: Math.floor(random() * max) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join("");
    for (let round = 0; round < 300; round++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 6) }, () => word(6));
      const together = new FilterValues(values);
      for (let k = 0; k < 40; k++) {
        const text = word(8);
        const alone = values.some((v) => new WildcardPattern(v).test(text));
        // asked twice: the second answer comes from what the first decided
        assert.equal(together.matches(text), alone, `${JSON.stringify(values)} ~ ${JSON.stringify(text)}`);
        assert.equal(together.matches(text), alone);
      }
    }
  });
});

describe("authentication", () => {
  test("unsigned, unknown-key, wrong-secret, stale and tampered requests are rejected", async () => {
    const body = form({ Action: "DescribeVpcs" });
    let r = await raw({ body, unsigned: true });
    assert.deepEqual([r.status, errorOf(r.body).code], [401, "MissingAuthenticationToken"]);
    r = await raw({ body, accessKeyId: "AKIAUNKNOWNKEY000000" });
    assert.deepEqual([r.status, errorOf(r.body).code], [401, "AuthFailure"]);
    r = await raw({ body, secret: "not-the-secret" });
    assert.deepEqual([r.status, errorOf(r.body).code], [403, "SignatureDoesNotMatch"]);
    r = await raw({ body, signingDate: new Date(Date.now() - 20 * 60 * 1000) });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "RequestExpired"]);
    r = await raw({
      body: form({ Action: "DescribeVpcs", "VpcId.1": "vpc-0123456789abcdef0" }),
      tamper: (b) => b.replace("vpc-0123456789abcdef0", "vpc-0123456789abcdef1"),
    });
    assert.deepEqual([r.status, errorOf(r.body).code], [403, "SignatureDoesNotMatch"]);
  });

  test("the SDK with the wrong secret is refused", async () => {
    const client = cp.clientFor(cp.server.accessKeyId, "wrong-secret");
    await assert.rejects(client.send(new DescribeSecurityGroupsCommand({})), {
      name: "SignatureDoesNotMatch",
    });
    client.destroy();
  });
});

describe("DryRun", () => {
  test("a valid request answers 412 DryRunOperation and changes nothing; an invalid one its own error", async () => {
    const before = (await cp.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups?.length;
    let r = await raw({
      body: form({
        Action: "CreateSecurityGroup",
        GroupName: "dry",
        GroupDescription: "dry",
        DryRun: "true",
      }),
    });
    assert.deepEqual(
      [r.status, errorOf(r.body)],
      [412, { code: "DryRunOperation", message: "Request would have succeeded, but DryRun flag is set." }],
    );
    const afterCount = (await cp.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups?.length;
    assert.equal(afterCount, before);
    r = await raw({
      body: form({
        Action: "CreateSecurityGroup",
        GroupName: "sg-dry",
        GroupDescription: "dry",
        DryRun: "true",
      }),
    });
    assert.deepEqual([r.status, errorOf(r.body).code], [400, "InvalidParameterValue"]);
  });
});

describe("regions", () => {
  test("each region of an account has its own default VPC", async () => {
    const west = new EC2Client({
      endpoint: cp.server.url,
      region: "eu-west-1",
      credentials: { accessKeyId: cp.server.accessKeyId, secretAccessKey: cp.server.secretAccessKey },
    });
    const east = (await cp.ec2.send(new DescribeVpcsCommand({}))).Vpcs?.find((v) => v.IsDefault);
    const westVpcs = (await west.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
    assert.equal(westVpcs.length, 1);
    assert.equal(westVpcs[0]?.CidrBlock, "172.31.0.0/16");
    assert.notEqual(westVpcs[0]?.VpcId, east?.VpcId);
    west.destroy();
  });
});
