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
  ["UND_ERR_REQ_RETRY", t("Network")],
  ["UND_ERR_RESPONSE_STATUS_CODE", t("Server")],
  // undici errors that are caller mistakes or deliberate cancellation: retrying cannot help.
  ["UND_ERR_ABORTED", p("Client")],
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
  ["ConditionalCheckFailedException", p("Client")]
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
  ["57014", t("Timeout")] // query_canceled (statement_timeout)
])

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
  { pattern: /too many requests|rate limit|throttl|slow ?down|quota exceeded|\b429\b/i, verdict: t("RateLimit") },
  { pattern: /tls handshake timeout|i\/o timeout|connection timeout|timed? ?out|\btimeout\b|deadline exceeded|request ?timeout/i, verdict: t("Timeout") },
  { pattern: /connection refused|connection reset|network (is )?unreachable|no such host|broken pipe|socket hang up|\beof\b|connection closed|connection aborted|host unreachable|getaddrinfo/i, verdict: t("Network") },
  { pattern: /service ?unavailable|bad gateway|gateway timeout|internal ?server ?error|internal ?error|temporar(il)?y unavailable|\b50[0234]\b|server busy|overloaded|try again/i, verdict: t("Server") },
  { pattern: /request ?limit ?exceeded|provisioned ?throughput ?exceeded|transaction ?in ?progress/i, verdict: t("Server") }
]
