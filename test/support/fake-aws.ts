/**
 * A loopback stand-in for the AWS APIs the handlers call besides DynamoDB:
 * SQS SendMessageBatch (JSON protocol), SNS Publish (query protocol),
 * Secrets Manager GetSecretValue (JSON protocol), S3 PutObject (REST,
 * path-style, as the SDK addresses an IP endpoint) and CloudFormation
 * DescribeStacks (query protocol; outputs only). It records every call, so a
 * test can feed what the dispatcher queued to the checker, and what the
 * checker published to the notifier, exactly as AWS would deliver it.
 *
 * Point a process at it with AWS_ENDPOINT_URL_SQS / _SNS / _SECRETS_MANAGER / _S3 / _CLOUDFORMATION.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SentMessage {
  readonly queueUrl: string;
  readonly messageId: string;
  readonly body: string;
}

export interface PublishedMessage {
  readonly topicArn: string;
  readonly messageId: string;
  readonly subject: string | null;
  readonly message: string;
  readonly messageStructure: string | null;
  readonly attributes: Record<string, string>;
}

export interface PutObject {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string | null;
  readonly cacheControl: string | null;
  readonly body: string;
}

export interface FakeAws {
  readonly url: string;
  readonly sent: SentMessage[];
  readonly published: PublishedMessage[];
  /** S3 objects written, in order. */
  readonly putObjects: PutObject[];
  /** Secret values by ARN or name. */
  readonly secrets: Map<string, string>;
  /** Stack outputs (key to value) by stack name; DescribeStacks of any other stack fails as CloudFormation does. */
  readonly stacks: Map<string, Record<string, string>>;
  close(): Promise<void>;
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown, type = 'application/x-amz-json-1.0'): void {
  res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': randomUUID() });
  res.end(JSON.stringify(body));
}

export async function startFakeAws(): Promise<FakeAws> {
  const sent: SentMessage[] = [];
  const published: PublishedMessage[] = [];
  const putObjects: PutObject[] = [];
  const secrets = new Map<string, string>();
  const stacks = new Map<string, Record<string, string>>();
  const sockets = new Set<Socket>();

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const path = /^\/([^/?]+)\/([^?]+)/.exec(req.url ?? '');
    if (req.method === 'PUT' && path) {
      putObjects.push({
        bucket: decodeURIComponent(path[1] ?? ''),
        key: decodeURIComponent(path[2] ?? ''),
        contentType: req.headers['content-type'] ?? null,
        cacheControl: req.headers['cache-control'] ?? null,
        body,
      });
      res.writeHead(200, { etag: `"${md5(body)}"`, 'x-amz-request-id': randomUUID() });
      res.end();
      return;
    }
    if (target === 'AmazonSQS.SendMessageBatch') {
      const input = JSON.parse(body) as { QueueUrl: string; Entries: { Id: string; MessageBody: string }[] };
      const successful = input.Entries.map((e) => {
        const messageId = randomUUID();
        sent.push({ queueUrl: input.QueueUrl, messageId, body: e.MessageBody });
        return { Id: e.Id, MessageId: messageId, MD5OfMessageBody: md5(e.MessageBody) };
      });
      json(res, 200, { Successful: successful, Failed: [] });
      return;
    }
    if (target === 'secretsmanager.GetSecretValue') {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      const value = secrets.get(SecretId);
      if (value === undefined) {
        json(res, 400, { __type: 'ResourceNotFoundException', message: `no secret ${SecretId}` });
        return;
      }
      json(res, 200, { ARN: SecretId, Name: SecretId, SecretString: value, VersionId: randomUUID() });
      return;
    }
    const form = new URLSearchParams(body);
    if (form.get('Action') === 'DescribeStacks') {
      const name = form.get('StackName') ?? '';
      const outputs = stacks.get(name);
      const xmlns = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
      res.writeHead(outputs ? 200 : 400, { 'content-type': 'text/xml' });
      res.end(
        outputs
          ? `<DescribeStacksResponse xmlns="${xmlns}"><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/1</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${Object.entries(
              outputs,
            )
              .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
              .join(
                '',
              )}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`
          : `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
      return;
    }
    if (form.get('Action') === 'Publish') {
      const attributes: Record<string, string> = {};
      for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
        attributes[form.get(`MessageAttributes.entry.${i}.Name`) ?? ''] =
          form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '';
      }
      const messageId = randomUUID();
      published.push({
        topicArn: form.get('TopicArn') ?? '',
        messageId,
        subject: form.get('Subject'),
        message: form.get('Message') ?? '',
        messageStructure: form.get('MessageStructure'),
        attributes,
      });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
      );
      return;
    }
    json(res, 400, {
      __type: 'UnknownOperationException',
      message: `fake AWS does not handle ${target || body.slice(0, 80)}`,
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    published,
    putObjects,
    secrets,
    stacks,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
