// Host policies shared by the agent tests.

import type { HostPolicy } from "../../src/compile/host-policy.js";

/** A web host: ssh from the members of sg-admin, everything out. */
export function webPolicy(adminMembers: string[] = ["10.0.9.9"], sshPort = 22): HostPolicy {
  return {
    instanceId: "i-web",
    interfaces: [
      {
        id: "eni-web",
        ipv4: ["10.0.0.5"],
        ipv6: [],
        groupIds: ["sg-web"],
        ingress: [
          {
            id: "sgr-ssh",
            groupId: "sg-web",
            protocol: 6,
            fromPort: sshPort,
            toPort: sshPort,
            peer: { kind: "group", groupId: "sg-admin" },
          },
        ],
        egress: [
          {
            id: "sgr-out",
            groupId: "sg-web",
            protocol: -1,
            fromPort: -1,
            toPort: -1,
            peer: { kind: "cidr", cidr: "0.0.0.0/0" },
          },
        ],
      },
    ],
    groups: [{ groupId: "sg-admin", ipv4: adminMembers, ipv6: [] }],
    prefixLists: [],
  };
}
