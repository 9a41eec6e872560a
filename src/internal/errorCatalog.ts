/**
 * The catalogue of known error signals (HTTP statuses, Node/undici codes, cloud-provider codes,
 * SQLSTATEs, message patterns) that the default classifier reads. Kept apart from the classifier
 * so the lists can be reviewed, documented and tested as data.
 *
 * @internal
 */
import type { Kind } from "./kind.ts"

/** A classification decision without the wrapped error. */
export interface Verdict {
  readonly transient: boolean
  readonly kind: Kind
}

const t = (kind: Kind): Verdict => ({ transient: true, kind })
const p = (kind: Kind): Verdict => ({ transient: false, kind })

/**
 * HTTP status → verdict (seed 001's table plus 408; DESIGN.md §2).
 * Statuses not listed fall back to their class: other 5xx transient, other 4xx permanent.
 */
export const httpStatusTable: ReadonlyMap<number, Verdict> = new Map([
  [400, p("Validation")],
  [401, p("Auth")],
  [403, p("Auth")],
  [404, p("NotFound")],
  [408, t("Timeout")],
  [410, p("NotFound")],
  [422, p("Validation")],
  [429, t("RateLimit")],
  [500, t("Server")],
  [501, p("Server")],
  [502, t("Server")],
  [503, t("Server")],
  [504, t("Timeout")],
  [505, p("Server")],
  [511, p("Auth")]
])

/**
 * Codes that mean the request never left this process: no connection was made, so no server saw
 * it and even a non-idempotent request may be sent again (`effect-resilience/http`).
 */
export const notSentCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT"
])

/** Node.js system error codes and undici codes that mean "the network failed; try again". */
export const networkCodes: ReadonlyMap<string, Verdict> = new Map([
  ["ECONNREFUSED", t("Network")],
  ["ECONNRESET", t("Network")],
  ["ECONNABORTED", t("Network")],
  ["EPIPE", t("Network")],
  ["ENETUNREACH", t("Network")],
  ["ENETDOWN", t("Network")],
  ["EHOSTUNREACH", t("Network")],
  ["EHOSTDOWN", t("Network")],
  ["EAI_AGAIN", t("Network")],
  ["ENOTFOUND", t("Network")],
  ["ETIMEDOUT", t("Timeout")],
  ["ESOCKETTIMEDOUT", t("Timeout")],
  ["EPROTO", t("Network")],
  ["UND_ERR_CONNECT_TIMEOUT", t("Timeout")],
  ["UND_ERR_HEADERS_TIMEOUT", t("Timeout")],
  ["UND_ERR_BODY_TIMEOUT", t("Timeout")],
  ["UND_ERR_SOCKET", t("Network")],
  ["UND_ERR_CLOSED", t("Network")],
  ["EADDRNOTAVAIL", t("Network")],
  // axios: a timeout is ECONNABORTED (see `refine`), ERR_NETWORK a failed request without a response.
  ["ERR_NETWORK", t("Network")],
  ["ERR_CANCELED", p("Client")],
  // undici errors that are caller mistakes or deliberate cancellation: retrying cannot help.
  ["UND_ERR_ABORT", p("Client")],
  ["UND_ERR_ABORTED", p("Client")],
  ["UND_ERR_DESTROYED", p("Client")],
  ["UND_ERR_INVALID_ARG", p("Validation")],
  ["UND_ERR_INVALID_RETURN_VALUE", p("Validation")],
  ["UND_ERR_NOT_SUPPORTED", p("Client")],
  ["UND_ERR_REQ_CONTENT_LENGTH_MISMATCH", p("Validation")],
  ["UND_ERR_RES_CONTENT_LENGTH_MISMATCH", t("Network")],
  ["UND_ERR_RES_EXCEEDED_MAX_SIZE", p("Client")],
  // Local file-system errors (seed 003: "File I/O errors" are not retried).
  ["ENOENT", p("NotFound")],
  ["EACCES", p("Auth")],
  ["EPERM", p("Auth")],
  ["EISDIR", p("Client")],
  ["ENOTDIR", p("Client")],
  ["EEXIST", p("Client")]
])

/** Cloud-provider error codes (AWS, GCP, Azure style), matched exactly against `code` or `name`. */
export const cloudCodes: ReadonlyMap<string, Verdict> = new Map([
  ["ThrottlingException", t("RateLimit")],
  ["Throttling", t("RateLimit")],
  ["ThrottledException", t("RateLimit")],
  ["TooManyRequestsException", t("RateLimit")],
  ["TooManyRequests", t("RateLimit")],
  ["SlowDown", t("RateLimit")],
  ["RequestLimitExceeded", t("RateLimit")],
  ["RequestThrottled", t("RateLimit")],
  ["RequestThrottledException", t("RateLimit")],
  ["ProvisionedThroughputExceededException", t("RateLimit")],
  ["BandwidthLimitExceeded", t("RateLimit")],
  ["LimitExceededException", t("RateLimit")],
  ["EC2ThrottledException", t("RateLimit")],
  ["RESOURCE_EXHAUSTED", t("RateLimit")],
  ["TransactionInProgressException", t("Server")],
  ["PriorRequestNotComplete", t("Server")],
  ["RequestTimeout", t("Timeout")],
  ["RequestTimeoutException", t("Timeout")],
  ["TimeoutError", t("Timeout")],
  ["DEADLINE_EXCEEDED", t("Timeout")],
  ["ServiceUnavailable", t("Server")],
  ["ServiceUnavailableException", t("Server")],
  ["UNAVAILABLE", t("Server")],
  ["InternalError", t("Server")],
  ["InternalFailure", t("Server")],
  ["InternalServerError", t("Server")],
  ["InternalServerException", t("Server")],
  ["ServerBusy", t("Server")],
  ["OperationTimedOut", t("Timeout")],
  ["IDPCommunicationError", t("Network")],
  ["NoSuchKey", p("NotFound")],
  ["NoSuchBucket", p("NotFound")],
  ["NotFound", p("NotFound")],
  ["ResourceNotFoundException", p("NotFound")],
  ["NOT_FOUND", p("NotFound")],
  ["AccessDenied", p("Auth")],
  ["AccessDeniedException", p("Auth")],
  ["UnauthorizedOperation", p("Auth")],
  ["InvalidAccessKeyId", p("Auth")],
  ["SignatureDoesNotMatch", p("Auth")],
  ["ExpiredToken", p("Auth")],
  ["ExpiredTokenException", p("Auth")],
  ["PERMISSION_DENIED", p("Auth")],
  ["UNAUTHENTICATED", p("Auth")],
  ["ValidationException", p("Validation")],
  ["ValidationError", p("Validation")],
  ["InvalidParameterValue", p("Validation")],
  ["InvalidParameterException", p("Validation")],
  ["InvalidArgument", p("Validation")],
  ["INVALID_ARGUMENT", p("Validation")],
  ["MalformedPolicyDocument", p("Validation")],
  ["ConditionalCheckFailedException", p("Client")],
  // More AWS codes (DynamoDB, STS, S3) that arrive with HTTP 400/403 but mean something specific.
  ["UnrecognizedClientException", p("Auth")],
  ["InvalidSignatureException", p("Auth")],
  ["MissingAuthenticationToken", p("Auth")],
  ["IncompleteSignature", p("Auth")],
  ["RequestTimeTooSkewed", p("Auth")],
  ["InvalidClientTokenId", p("Auth")],
  ["EntityTooLarge", p("Validation")],
  ["InvalidBucketName", p("Validation")],
  ["SerializationException", p("Validation")]
])

/**
 * Codes, types and error names of client libraries (matched exactly, like the cloud codes):
 * LLM APIs (OpenAI's `code`/`type`, Anthropic's error `type` and error class names), kafkajs
 * (protocol error `type`s, error class names) and the DOM's `AbortError`/`TimeoutError`.
 * Every entry agrees with the library's own retry decision, so its flags never contradict it.
 */
export const clientCodes: ReadonlyMap<string, Verdict> = new Map([
  // OpenAI: a 429 with `insufficient_quota` is a billing state, not a burst: waiting does not help.
  ["rate_limit_exceeded", t("RateLimit")],
  ["insufficient_quota", p("Auth")],
  ["invalid_api_key", p("Auth")],
  ["model_not_found", p("NotFound")],
  ["context_length_exceeded", p("Validation")],
  ["server_error", t("Server")],
  // Anthropic's error types (the body's `error.type`, copied to the error's `type`).
  ["rate_limit_error", t("RateLimit")],
  ["overloaded_error", t("Server")],
  ["api_error", t("Server")],
  ["timeout_error", t("Timeout")],
  ["invalid_request_error", p("Validation")],
  ["authentication_error", p("Auth")],
  ["permission_error", p("Auth")],
  ["billing_error", p("Auth")],
  ["not_found_error", p("NotFound")],
  ["request_too_large", p("Validation")],
  // Error class names of the OpenAI and Anthropic SDKs.
  ["APIConnectionError", t("Network")],
  ["APIConnectionTimeoutError", t("Timeout")],
  ["APIUserAbortError", p("Client")],
  ["RateLimitError", t("RateLimit")],
  ["OverloadedError", t("Server")],
  // The DOM's names: a deliberate abort is not retried, AbortSignal.timeout() is.
  ["AbortError", p("Client")],
  // kafkajs error classes and Kafka protocol error types (retriable exactly when kafkajs says so).
  ["KafkaJSConnectionError", t("Network")],
  ["KafkaJSConnectionClosedError", t("Network")],
  ["KafkaJSRequestTimeoutError", t("Timeout")],
  ["KafkaJSBrokerNotFound", t("Network")],
  ["KafkaJSNoBrokerAvailableError", t("Network")],
  ["KafkaJSSASLAuthenticationError", p("Auth")],
  ["REQUEST_TIMED_OUT", t("Timeout")],
  ["NETWORK_EXCEPTION", t("Network")],
  ["LEADER_NOT_AVAILABLE", t("Server")],
  ["NOT_LEADER_FOR_PARTITION", t("Server")],
  ["REPLICA_NOT_AVAILABLE", t("Server")],
  ["NOT_ENOUGH_REPLICAS", t("Server")],
  ["NOT_ENOUGH_REPLICAS_AFTER_APPEND", t("Server")],
  ["NOT_CONTROLLER", t("Server")],
  ["GROUP_LOAD_IN_PROGRESS", t("Server")],
  ["GROUP_COORDINATOR_NOT_AVAILABLE", t("Server")],
  ["NOT_COORDINATOR_FOR_GROUP", t("Server")],
  ["CONCURRENT_TRANSACTIONS", t("Server")],
  ["KAFKA_STORAGE_ERROR", t("Server")],
  ["UNKNOWN_TOPIC_OR_PARTITION", t("Server")],
  ["TOPIC_AUTHORIZATION_FAILED", p("Auth")],
  ["GROUP_AUTHORIZATION_FAILED", p("Auth")],
  ["CLUSTER_AUTHORIZATION_FAILED", p("Auth")],
  ["SASL_AUTHENTICATION_FAILED", p("Auth")],
  ["MESSAGE_TOO_LARGE", p("Validation")],
  ["RECORD_LIST_TOO_LARGE", p("Validation")],
  ["INVALID_TOPIC_EXCEPTION", p("Validation")]
])

/**
 * PostgreSQL SQLSTATE codes that are safe to retry (connection loss, serialization failures,
 * deadlocks, server shutting down, too many connections). Classes 08 (connection exception)
 * match by prefix.
 */
export const sqlStates: ReadonlyMap<string, Verdict> = new Map([
  ["40001", t("Server")], // serialization_failure
  ["40P01", t("Server")], // deadlock_detected
  ["55P03", t("Server")], // lock_not_available
  ["57P01", t("Server")], // admin_shutdown
  ["57P02", t("Server")], // crash_shutdown
  ["57P03", t("Server")], // cannot_connect_now
  ["53300", t("RateLimit")], // too_many_connections
  ["57014", t("Timeout")], // query_canceled (statement_timeout)
  ["53000", t("Server")], // insufficient_resources
  ["53200", t("Server")] // out_of_memory
])

/**
 * Error names of wrappers that carry the real failure in `cause`/`originalError`/`errors` and
 * whose own flags describe the wrapper, not the failure: kafkajs gives up with
 * `KafkaJSNumberOfRetriesExceeded` (flagged `retriable: false`, even with its own retries at 0)
 * around a broker connection error, and wraps a non-retriable failure in `KafkaJSNonRetriableError`.
 */
export const wrapperNames: ReadonlySet<string> = new Set([
  "KafkaJSNumberOfRetriesExceeded",
  "KafkaJSNonRetriableError",
  "AggregateError"
])

/** Codes that only say "an HTTP response failed": the status next to them decides. */
const responseCodes: ReadonlySet<string> = new Set([
  "UND_ERR_RESPONSE",
  "UND_ERR_RESPONSE_STATUS_CODE",
  "UND_ERR_REQ_RETRY",
  "ERR_BAD_RESPONSE",
  "ERR_BAD_REQUEST"
])

const exactCodes: ReadonlyMap<string, Verdict> = new Map([...networkCodes, ...cloudCodes, ...clientCodes, ...sqlStates])

/**
 * The verdict of a code, error name or type, from the one table above, whatever field carried it.
 * AWS's `__type` (`com.amazonaws.dynamodb.v20120810#ThrottlingException`) and `x-amzn-ErrorType`
 * (`ThrottlingException:http://…`) forms are reduced to the code. SQLSTATE class 08 (connection
 * exception) and unlisted undici codes are transient `Network`.
 */
export const codeVerdict = (code: unknown): Verdict | undefined => {
  if (typeof code !== "string" || code === "" || code.length > 200) return undefined
  const hash = code.lastIndexOf("#")
  const short = (hash >= 0 ? code.slice(hash + 1) : code).split(":")[0]!.trim()
  if (responseCodes.has(short)) return undefined
  const exact = exactCodes.get(short)
  if (exact !== undefined) return exact
  if (/^08[0-9A-Z]{3}$/.test(short)) return t("Network") // SQLSTATE class 08
  if (short.startsWith("UND_ERR_")) return t("Network")
  return undefined
}

/**
 * A code found as a word in a message (`new Error("TooManyRequests")`, `"connect ECONNREFUSED
 * 127.0.0.1:5432"`): the same table as for `code`/`name` fields, so a code means the same wherever
 * it appears. Words that only say "an HTTP response failed" and bare SQLSTATEs are not looked up.
 * A permanent word wins over a transient one.
 */
export const messageCodeVerdict = (message: string): Verdict | undefined => {
  let transient: Verdict | undefined
  let count = 0
  for (const match of message.matchAll(/[A-Za-z][A-Za-z0-9_]{3,}/g)) {
    if (++count > 256) break
    const verdict = exactCodes.get(match[0])
    if (verdict === undefined) continue
    if (!verdict.transient) return verdict
    transient ??= verdict
  }
  return transient
}

/** A message pattern and the verdict it implies. */
export interface MessagePattern {
  readonly pattern: RegExp
  readonly verdict: Verdict
}

/**
 * Message patterns that rule a retry out (seed 003: not found / NoSuchKey, permission or access
 * denied, invalid input). Checked before the transient patterns: when a message says both, do not
 * retry.
 */
export const permanentMessagePatterns: ReadonlyArray<MessagePattern> = [
  { pattern: /\bno ?such ?key\b|\bnot found\b|\bno such file\b|\bdoes not exist\b/i, verdict: p("NotFound") },
  { pattern: /permission denied|access denied|\bforbidden\b|\bunauthori[sz]ed\b|invalid (api )?key|invalid credentials/i, verdict: p("Auth") },
  { pattern: /\binvalid (input|argument|parameter|request)\b|validation (error|failed)|\bmalformed\b|\bbad request\b/i, verdict: p("Validation") }
]

/** Message patterns of transient failures (seed 003's network and HTTP/cloud lists). */
export const transientMessagePatterns: ReadonlyArray<MessagePattern> = [
  { pattern: /too ?many ?requests|rate ?limit|throttl|slow ?down|quota exceeded|request ?limit ?exceeded|provisioned ?throughput ?exceeded|\b429\b/i, verdict: t("RateLimit") },
  { pattern: /tls handshake timeout|i\/o timeout|connection timeout|timed? ?out|\btimeout\b|deadline exceeded|request ?timeout/i, verdict: t("Timeout") },
  {
    // node-postgres ("Connection terminated unexpectedly", "… encountered a connection error and is
    // not queryable"), glibc's resolver ("Temporary failure in name resolution"), Envoy ("upstream
    // connect error or disconnect/reset before headers"), the LLM SDKs ("Connection error.").
    pattern: /connection refused|connection reset|network (is )?unreachable|no such host|broken pipe|socket hang up|\beof\b|connection closed|connection aborted|host unreachable|getaddrinfo|connection terminated|connection error|temporary failure in name resolution|upstream connect error|disconnect\/reset before headers/i,
    verdict: t("Network")
  },
  { pattern: /service ?unavailable|bad gateway|gateway timeout|internal ?server ?error|internal ?error|temporar(il)?y unavailable|\b50[0234]\b|server ?busy|overloaded|try again|transaction ?in ?progress/i, verdict: t("Server") }
]
