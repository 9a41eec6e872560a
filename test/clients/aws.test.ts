// The AWS SDK v3 S3 and DynamoDB clients (their own retries off, fake credentials) against a
// loopback server answering like the services: S3's XML errors, DynamoDB's JSON errors with
// throttling reported as HTTP 400, dropped sockets.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb"
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { attempt, closedPort, httpLoopback, retriedOnTestClock, type Step, verdict } from "./loopback.ts"

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }

const s3Error = (status: number, code: string, headers: Record<string, string> = {}): Step => ({
  status,
  headers: { "content-type": "application/xml", ...headers },
  body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${code} happened</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`
})
const dynamoError = (status: number, type: string, headers: Record<string, string> = {}): Step => ({
  status,
  headers: { "content-type": "application/x-amz-json-1.0", ...headers },
  body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} happened` })
})
const item: Step = { status: 200, headers: { "content-type": "application/x-amz-json-1.0" }, body: JSON.stringify({ Item: { id: { S: "1" } } }) }

describe("@aws-sdk/client-s3", () => {
  it.effect("each error shape: verdict, kind, hint ($response.headers)", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback()
      const s3 = new S3Client({ endpoint: server.url, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials })
      yield* Effect.addFinalizer(() => Effect.sync(() => s3.destroy()))
      const get = () => attempt(() => s3.send(new GetObjectCommand({ Bucket: "bucket", Key: "key" })))
      const shapes: ReadonlyArray<readonly [Step, string, number | undefined]> = [
        [s3Error(503, "SlowDown", { "retry-after": "2" }), "Transient/RateLimit", 2000],
        [s3Error(400, "RequestTimeout"), "Transient/Timeout", undefined],
        [s3Error(500, "InternalError"), "Transient/Server", undefined],
        [s3Error(503, "ServiceUnavailable"), "Transient/Server", undefined],
        [s3Error(404, "NoSuchKey"), "Permanent/NotFound", undefined],
        [s3Error(404, "NoSuchBucket"), "Permanent/NotFound", undefined],
        [s3Error(403, "AccessDenied"), "Permanent/Auth", undefined],
        [s3Error(403, "SignatureDoesNotMatch"), "Permanent/Auth", undefined],
        [s3Error(400, "InvalidBucketName"), "Permanent/Validation", undefined],
        ["drop", "Transient/Network", undefined]
      ]
      for (const [step, expected, hint] of shapes) {
        server.script(step)
        assert.deepStrictEqual(verdict(yield* Effect.flip(get())), { verdict: expected, hintMs: hint }, JSON.stringify(step).slice(0, 120))
      }
      const down = new S3Client({ endpoint: `http://127.0.0.1:${yield* closedPort}`, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials })
      const refused = yield* Effect.flip(attempt(() => down.send(new GetObjectCommand({ Bucket: "bucket", Key: "key" }))))
      down.destroy()
      assert.deepStrictEqual(verdict(refused), { verdict: "Transient/Network", hintMs: undefined })
    }).pipe(Effect.scoped))

  it.effect("end to end: SlowDown with Retry-After is retried after the hint, NoSuchKey is not retried", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback(s3Error(503, "SlowDown", { "retry-after": "3" }), { status: 200, body: "hello" })
      const s3 = new S3Client({ endpoint: server.url, region: "us-east-1", forcePathStyle: true, maxAttempts: 1, credentials })
      yield* Effect.addFinalizer(() => Effect.sync(() => s3.destroy()))
      const get = attempt(() => s3.send(new GetObjectCommand({ Bucket: "bucket", Key: "key" })).then((r) => r.Body!.transformToString()))
      const ok = yield* retriedOnTestClock(get, { maxRetries: 3, initialDelay: 500, jitter: "none" })
      assert.deepStrictEqual(ok.exit, Exit.succeed("hello"))
      assert.deepStrictEqual(ok.delays, [3000])
      server.script(s3Error(404, "NoSuchKey"))
      const missing = yield* retriedOnTestClock(get, { maxRetries: 3, initialDelay: 500, jitter: "none" })
      assert.isTrue(Exit.isFailure(missing.exit))
      assert.deepStrictEqual(missing.delays, [])
      assert.strictEqual(server.requests.length, 3)
    }).pipe(Effect.scoped))
})

describe("@aws-sdk/client-dynamodb", () => {
  it.effect("throttling reported as HTTP 400 is transient, with the kind of its code", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback()
      const dynamo = new DynamoDBClient({ endpoint: server.url, region: "us-east-1", maxAttempts: 1, credentials })
      yield* Effect.addFinalizer(() => Effect.sync(() => dynamo.destroy()))
      const get = () => attempt(() => dynamo.send(new GetItemCommand({ TableName: "t", Key: { id: { S: "1" } } })))
      const shapes: ReadonlyArray<readonly [Step, string, number | undefined]> = [
        [dynamoError(400, "ThrottlingException"), "Transient/RateLimit", undefined],
        [dynamoError(400, "ProvisionedThroughputExceededException"), "Transient/RateLimit", undefined],
        [dynamoError(400, "RequestLimitExceeded"), "Transient/RateLimit", undefined],
        [dynamoError(400, "LimitExceededException"), "Transient/RateLimit", undefined],
        [dynamoError(400, "TransactionInProgressException"), "Transient/Server", undefined],
        [dynamoError(400, "ThrottlingException", { "retry-after": "1" }), "Transient/RateLimit", 1000],
        [dynamoError(500, "InternalServerError"), "Transient/Server", undefined],
        [dynamoError(503, "ServiceUnavailable"), "Transient/Server", undefined],
        [dynamoError(400, "ResourceNotFoundException"), "Permanent/NotFound", undefined],
        [dynamoError(400, "ValidationException"), "Permanent/Validation", undefined],
        [dynamoError(400, "ConditionalCheckFailedException"), "Permanent/Client", undefined],
        [dynamoError(400, "UnrecognizedClientException"), "Permanent/Auth", undefined],
        [dynamoError(400, "AccessDeniedException"), "Permanent/Auth", undefined],
        ["drop", "Transient/Network", undefined]
      ]
      for (const [step, expected, hint] of shapes) {
        server.script(step)
        assert.deepStrictEqual(verdict(yield* Effect.flip(get())), { verdict: expected, hintMs: hint }, JSON.stringify(step).slice(0, 140))
      }
    }).pipe(Effect.scoped))

  it.effect("end to end: a throttled GetItem is retried on the backoff and succeeds; a missing table is not retried", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback(dynamoError(400, "ProvisionedThroughputExceededException"), dynamoError(400, "ThrottlingException"), item)
      const dynamo = new DynamoDBClient({ endpoint: server.url, region: "us-east-1", maxAttempts: 1, credentials })
      yield* Effect.addFinalizer(() => Effect.sync(() => dynamo.destroy()))
      const get = attempt(() => dynamo.send(new GetItemCommand({ TableName: "t", Key: { id: { S: "1" } } })).then((r) => r.Item?.id?.S))
      const ok = yield* retriedOnTestClock(get, { maxRetries: 3, initialDelay: 100, jitter: "none" })
      assert.deepStrictEqual(ok.exit, Exit.succeed("1"))
      assert.deepStrictEqual(ok.delays, [100, 200])
      server.script(dynamoError(400, "ResourceNotFoundException"))
      const missing = yield* retriedOnTestClock(get, { maxRetries: 3, initialDelay: 100, jitter: "none" })
      assert.isTrue(Exit.isFailure(missing.exit))
      assert.deepStrictEqual(missing.delays, [])
      assert.strictEqual(server.requests.length, 4)
    }).pipe(Effect.scoped))
})
