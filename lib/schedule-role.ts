import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * The role EventBridge Scheduler assumes to invoke one function: invoke that
 * function (unqualified: never a version or alias) and park undeliverable
 * invocations in the dead-letter queue, nothing else. Only this account's
 * schedules may assume it.
 *
 * Returned without policy updates, because the scheduler target would
 * otherwise add `lambda:InvokeFunction` on `<function ARN>:*` as well.
 */
export function scheduleInvokeRole(
  scope: Construct,
  id: string,
  target: lambda.IFunction,
  deadLetterQueue: sqs.IQueue,
): iam.IRole {
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: 'certwatch: lets EventBridge Scheduler invoke one function',
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'InvokeTarget',
      actions: ['lambda:InvokeFunction'],
      resources: [target.functionArn],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DeadLetter',
      actions: ['sqs:SendMessage'],
      resources: [deadLetterQueue.queueArn],
    }),
  );
  return role.withoutPolicyUpdates();
}
