// Idle timeouts of tracked connections on one interface (EC2's ConnectionTrackingSpecification,
// spec 3.11): what may be set, and what an unset value means.

import { invalidValue } from "./errors.js";

/** Seconds; a value left out keeps EC2's default. */
export interface ConnectionTracking {
  readonly tcpEstablishedTimeout?: number;
  readonly udpStreamTimeout?: number;
  readonly udpTimeout?: number;
}

interface Bound {
  readonly wire: string;
  readonly min: number;
  readonly max: number;
  readonly fallback: number;
}

const BOUNDS: Record<keyof ConnectionTracking, Bound> = {
  tcpEstablishedTimeout: { wire: "TcpEstablishedTimeout", min: 60, max: 432_000, fallback: 432_000 },
  udpStreamTimeout: { wire: "UdpStreamTimeout", min: 60, max: 180, fallback: 180 },
  udpTimeout: { wire: "UdpTimeout", min: 30, max: 60, fallback: 30 },
};

const KEYS = Object.keys(BOUNDS) as (keyof ConnectionTracking)[];

/**
 * The specification of a request merged onto what the interface had (a Modify changes only the
 * values it names); undefined when nothing is set at all.
 */
export function connectionTracking(
  given: (wire: string) => number | undefined,
  current: ConnectionTracking | undefined = undefined,
): ConnectionTracking | undefined {
  const merged: { -readonly [K in keyof ConnectionTracking]: number } = { ...current };
  for (const key of KEYS) {
    const { wire, min, max } = BOUNDS[key];
    const value = given(wire);
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw invalidValue(`The ${wire} must be between ${min} and ${max} seconds, not ${value}.`);
    }
    merged[key] = value;
  }
  return KEYS.some((key) => merged[key] !== undefined) ? merged : undefined;
}

/** Every timeout, EC2's default where none was set. */
export function effectiveTimeouts(tracking: ConnectionTracking): Required<ConnectionTracking> {
  return {
    tcpEstablishedTimeout: tracking.tcpEstablishedTimeout ?? BOUNDS.tcpEstablishedTimeout.fallback,
    udpStreamTimeout: tracking.udpStreamTimeout ?? BOUNDS.udpStreamTimeout.fallback,
    udpTimeout: tracking.udpTimeout ?? BOUNDS.udpTimeout.fallback,
  };
}
