import { Arn, ArnFormat, CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DeploymentConfigError } from './deployment-config-error';

import type { SecretRef } from '../lambdas/config/secret-ref';

export type { SecretRef };

/**
 * How a handler finds a secret at run time (serialized into its environment):
 * the secret's ARN and, when the secret is a JSON object, the key to read.
 * The value itself never appears in the template.
 */
export interface SecretEnvRef {
  readonly secretArn: string;
  readonly jsonKey?: string;
}

/** A resolved reference: the secret construct (for grants) and the env form. */
export interface ResolvedSecret {
  readonly secret: secretsmanager.ISecret;
  readonly envRef: SecretEnvRef;
  /** ARN pattern IAM must allow GetSecretValue on (name-based imports end in `-??????`). */
  readonly policyArn: string;
}

/** Complete Secrets Manager ARNs end in a 6-character random suffix. */
const COMPLETE_ARN = /^arn:[^:]+:secretsmanager:[^:]*:\d*:secret:.+-[A-Za-z0-9]{6}$/;

/**
 * Turns the config's secret references into Secrets Manager secrets:
 * - `secretsmanager:NAME_OR_ARN[#jsonKey]` imports the existing secret;
 * - `env:NAME` creates a secret holding a generated placeholder, which ops
 *   replace with `aws secretsmanager put-secret-value` (its ARN is a stack output);
 * - a literal value is refused: the template would carry it in plain text.
 *
 * The same reference resolves to the same secret construct every time.
 */
export class SecretReferences extends Construct {
  readonly #byKey = new Map<string, ResolvedSecret>();
  /** Secrets this construct created for `env:` references (they need a value put into them). */
  readonly createdSecrets: secretsmanager.Secret[] = [];

  /**
   * @param ref the parsed reference
   * @param usage what the value is for, for messages and descriptions, e.g. `channel "ops-slack" url`
   * @throws DeploymentConfigError for a literal value
   */
  resolve(ref: SecretRef, usage: string): ResolvedSecret {
    if (ref.kind === 'literal') {
      throw new DeploymentConfigError(
        `${usage}: a plain value cannot be deployed (it would be stored in the CloudFormation template); ` +
          'use env:NAME (the stack creates a secret for you to fill in) or secretsmanager:NAME_OR_ARN[#jsonKey]',
      );
    }
    const key = ref.kind === 'env' ? `env:${ref.name}` : `sm:${ref.id}`;
    const jsonKey = ref.kind === 'secretsmanager' ? ref.jsonKey : undefined;
    let base = this.#byKey.get(key);
    if (!base) {
      base = ref.kind === 'env' ? this.#createForEnv(ref.name, usage) : this.#import(ref.id);
      this.#byKey.set(key, base);
    }
    return { ...base, envRef: jsonKey === undefined ? base.envRef : { ...base.envRef, jsonKey } };
  }

  /** Allows `grantee` to read exactly the given secrets' values. */
  static grantRead(grantee: iam.IGrantable, secrets: readonly ResolvedSecret[], sid = 'ReadSecrets'): void {
    const resources = [...new Set(secrets.map((s) => s.policyArn))];
    if (resources.length === 0) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources }),
    );
  }

  #createForEnv(name: string, usage: string): ResolvedSecret {
    const id = `Env${name.replace(/[^A-Za-z0-9]/g, '')}`;
    const secret = new secretsmanager.Secret(this, id, {
      description:
        `certwatch: value of env:${name} (${usage}). Holds a generated placeholder until set with ` +
        'aws secretsmanager put-secret-value --secret-id <this ARN> --secret-string <value>',
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
    });
    this.createdSecrets.push(secret);
    new CfnOutput(this, `${id}Arn`, {
      description: `Secret to fill with the value of env:${name} (${usage})`,
      value: secret.secretArn,
    });
    return { secret, envRef: { secretArn: secret.secretArn }, policyArn: secret.secretArn };
  }

  #import(idOrArn: string): ResolvedSecret {
    const id = `Imported${this.#byKey.size}`;
    if (COMPLETE_ARN.test(idOrArn)) {
      const secret = secretsmanager.Secret.fromSecretCompleteArn(this, id, idOrArn);
      return { secret, envRef: { secretArn: idOrArn }, policyArn: idOrArn };
    }
    if (idOrArn.startsWith('arn:')) {
      const secret = secretsmanager.Secret.fromSecretPartialArn(this, id, idOrArn);
      return { secret, envRef: { secretArn: idOrArn }, policyArn: `${idOrArn}-??????` };
    }
    const secret = secretsmanager.Secret.fromSecretNameV2(this, id, idOrArn);
    // A partial ARN names the secret unambiguously for GetSecretValue; IAM must allow the random suffix.
    const partialArn = Arn.format(
      {
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: idOrArn,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      },
      Stack.of(this),
    );
    return { secret, envRef: { secretArn: partialArn }, policyArn: `${partialArn}-??????` };
  }
}
