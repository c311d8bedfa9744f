// Build step: extract the operations ringfence serves from the EC2 model that the aws-sdk (v2)
// package ships, so the protocol layer decodes requests and encodes responses by walking shapes.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const model = JSON.parse(readFileSync(require.resolve("aws-sdk/apis/ec2-2016-11-15.min.json"), "utf8"));
const { OPERATIONS } = await import("../src/api/operations.json", { with: { type: "json" } }).then(
  (m) => m.default,
);

const used = new Set();
function visit(shape) {
  if (!shape || typeof shape !== "object") return;
  if (shape.shape && !used.has(shape.shape)) {
    used.add(shape.shape);
    visit(model.shapes[shape.shape]);
  }
  if (shape.member) visit(shape.member);
  for (const member of Object.values(shape.members ?? {})) visit(member);
}

const operations = {};
for (const name of OPERATIONS) {
  const op = model.operations[name];
  if (!op) throw new Error(`operation ${name} is not in the EC2 model`);
  operations[name] = { input: op.input ?? { type: "structure", members: {} }, output: op.output ?? null };
  visit(op.input);
  visit(op.output);
}
// Members newer than the aws-sdk v2 copy of the model (names and element names from the current
// botocore model); without them the response would lack fields that current SDKs read.
const arn = { locationName: "securityGroupArn" };
const revokedRule = {
  locationName: "revokedSecurityGroupRuleSet",
  type: "list",
  member: {
    locationName: "item",
    type: "structure",
    members: Object.fromEntries(
      [
        ["SecurityGroupRuleId", "securityGroupRuleId"],
        ["GroupId", "groupId"],
        ["IsEgress", "isEgress", "boolean"],
        ["IpProtocol", "ipProtocol"],
        ["FromPort", "fromPort", "integer"],
        ["ToPort", "toPort", "integer"],
        ["CidrIpv4", "cidrIpv4"],
        ["CidrIpv6", "cidrIpv6"],
        ["PrefixListId", "prefixListId"],
        ["ReferencedGroupId", "referencedGroupId"],
        ["Description", "description"],
      ].map(([name, locationName, type]) => [name, type ? { locationName, type } : { locationName }]),
    ),
  },
};
function structureAt(root, path) {
  let shape = root;
  for (const step of path) {
    if (shape.shape) shape = model.shapes[shape.shape];
    shape = step === "[]" ? shape.member : shape.members[step];
  }
  return shape.shape ? model.shapes[shape.shape] : shape;
}
const additions = [
  ["CreateSecurityGroup", [], "SecurityGroupArn", arn],
  ["DescribeSecurityGroups", ["SecurityGroups", "[]"], "SecurityGroupArn", arn],
  [
    "AuthorizeSecurityGroupIngress",
    ["SecurityGroupRules", "[]"],
    "SecurityGroupRuleArn",
    { locationName: "securityGroupRuleArn" },
  ],
  [
    "DescribeSecurityGroupRules",
    ["SecurityGroupRules", "[]"],
    "SecurityGroupRuleArn",
    { locationName: "securityGroupRuleArn" },
  ],
  ["RevokeSecurityGroupIngress", [], "RevokedSecurityGroupRules", revokedRule],
  ["RevokeSecurityGroupEgress", [], "RevokedSecurityGroupRules", revokedRule],
];
for (const [op, path, name, member] of additions) {
  const target = structureAt(operations[op].output, path);
  target.members[name] ??= member;
}
operations.DeleteSecurityGroup.output ??= {
  type: "structure",
  members: { Return: { locationName: "return", type: "boolean" }, GroupId: { locationName: "groupId" } },
};
const newerInputs = [
  ["TerminateInstances", "Force", { type: "boolean" }],
  ["TerminateInstances", "SkipOsShutdown", { type: "boolean" }],
  ["StopInstances", "SkipOsShutdown", { type: "boolean" }],
  ["DescribeInstances", "IncludeManagedResources", { type: "boolean" }],
  ["DescribeNetworkInterfaces", "IncludeManagedResources", { type: "boolean" }],
];
for (const [op, name, member] of newerInputs) operations[op].input.members[name] ??= member;

const shapes = Object.fromEntries([...used].sort().map((id) => [id, model.shapes[id]]));
mkdirSync(new URL("../dist/src/api/generated/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("../dist/src/api/generated/ec2-model.json", import.meta.url),
  JSON.stringify({ xmlNamespace: `${model.metadata.xmlNamespace}/`, operations, shapes }),
);
console.log(`ec2 model: ${Object.keys(operations).length} operations, ${used.size} shapes`);
