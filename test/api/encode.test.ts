import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeFragment, encodeResponse } from "../../src/api/wire/encode.js";
import { ec2Model, type Shape } from "../../src/api/wire/shapes.js";

const text = (buffers: readonly Buffer[]) => Buffer.concat(buffers).toString("utf8");

test("a response is written in the model's member order, with its wire names, whatever the output's key order", () => {
  const xml = text(
    encodeResponse("AuthorizeSecurityGroupIngress", "req-1", {
      SecurityGroupRules: [
        {
          ToPort: 443,
          Description: `a <"quoted"> & 'escaped' text`,
          IsEgress: false,
          FromPort: 443,
          SecurityGroupRuleId: "sgr-0123456789abcdef0",
          Tags: [],
          CidrIpv6: undefined,
          PrefixListId: null,
        },
      ],
      Return: true,
    }),
  );
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<AuthorizeSecurityGroupIngressResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>' +
      "<return>true</return><securityGroupRuleSet><item><securityGroupRuleId>sgr-0123456789abcdef0</securityGroupRuleId>" +
      "<isEgress>false</isEgress><fromPort>443</fromPort><toPort>443</toPort>" +
      "<description>a &lt;&quot;quoted&quot;&gt; &amp; &apos;escaped&apos; text</description><tagSet/></item></securityGroupRuleSet>" +
      "</AuthorizeSecurityGroupIngressResponse>",
  );
});

test("an output member the model does not have is refused, not dropped, also beside members it has", () => {
  assert.throws(
    () => encodeResponse("AuthorizeSecurityGroupIngress", "req-1", { Return: true, Bogus: "x" }),
    /output member Bogus is not in the EC2 model/,
  );
  assert.throws(
    () =>
      encodeResponse("AuthorizeSecurityGroupIngress", "req-1", {
        SecurityGroupRules: [{ GroupId: "sg-1", GroupID: "sg-1" }],
      }),
    /output member GroupID is not in the EC2 model/,
  );
  // an absent value of an unknown name is not output either way
  assert.doesNotThrow(() => encodeResponse("AuthorizeSecurityGroupIngress", "req-1", { Bogus: undefined }));
});

test("an output that is not a plain object is read by its members and checked by its own keys", () => {
  class Output {
    get Return() {
      return true;
    }
  }
  const expected =
    /<requestId>req-3<\/requestId><return>true<\/return><\/AuthorizeSecurityGroupIngressResponse>$/;
  assert.match(
    text(encodeResponse("AuthorizeSecurityGroupIngress", "req-3", new Output() as never)),
    expected,
  );
  const inherited = Object.assign(Object.create({ Extra: 1 }), { Return: true });
  assert.match(text(encodeResponse("AuthorizeSecurityGroupIngress", "req-3", inherited)), expected);
  assert.throws(
    () =>
      encodeResponse(
        "AuthorizeSecurityGroupIngress",
        "req-3",
        Object.assign(new Output(), { Bogus: "x" }) as never,
      ),
    /output member Bogus is not in the EC2 model/,
  );
});

test("a cached fragment is written as it is, inside the element that holds it", () => {
  const shape = ec2Model.operations.AuthorizeSecurityGroupIngress?.output as Shape;
  const list = (shape.members as Record<string, Shape>).SecurityGroupRules as Shape;
  const fragment = encodeFragment(list, [{ GroupId: "sg-1" }, { GroupId: "sg-2" }]);
  assert.equal(
    fragment.bytes.toString(),
    "<item><groupId>sg-1</groupId></item><item><groupId>sg-2</groupId></item>",
  );
  const xml = text(
    encodeResponse("AuthorizeSecurityGroupIngress", "req-2", { Return: false, SecurityGroupRules: fragment }),
  );
  assert.match(
    xml,
    /<return>false<\/return><securityGroupRuleSet><item><groupId>sg-1<\/groupId><\/item><item><groupId>sg-2<\/groupId><\/item><\/securityGroupRuleSet>/,
  );
});
