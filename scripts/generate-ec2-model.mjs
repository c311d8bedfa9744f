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
const shapes = Object.fromEntries([...used].sort().map((id) => [id, model.shapes[id]]));
mkdirSync(new URL("../src/api/generated/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("../src/api/generated/ec2-model.json", import.meta.url),
  JSON.stringify({ xmlNamespace: `${model.metadata.xmlNamespace}/`, operations, shapes }),
);
console.log(`ec2 model: ${Object.keys(operations).length} operations, ${used.size} shapes`);
