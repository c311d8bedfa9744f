// EC2 error codes travel as exceptions from wherever validation fails up to the protocol layer,
// which renders them as the EC2 error body with the status that goes with the code.

const STATUS_BY_CODE: Record<string, number> = {
  DryRunOperation: 412,
  AuthFailure: 401,
  MissingAuthenticationToken: 401,
  UnauthorizedOperation: 403,
  SignatureDoesNotMatch: 403,
  InternalError: 500,
  RequestLimitExceeded: 503,
  Unavailable: 503,
};

export class Ec2Error extends Error {
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.status = STATUS_BY_CODE[code] ?? 400;
  }
}

export const invalidValue = (message: string) => new Ec2Error("InvalidParameterValue", message);
export const missingParameter = (name: string) =>
  new Ec2Error("MissingParameter", `The request must contain the parameter ${name}`);
export const invalidCombination = (message: string) => new Ec2Error("InvalidParameterCombination", message);
