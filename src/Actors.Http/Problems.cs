using Actors.Protocol;
using Microsoft.AspNetCore.Http;

namespace Actors.Http;

/// <summary>
/// RFC 7807 problem details with a stable <c>type</c> per error (<c>urn:actors:problem:{slug}</c>) and, for queue
/// refusals, the <see cref="RejectionCode"/> as <c>code</c>.
/// </summary>
public static class Problems
{
    /// <summary>The stable type URI of an error slug such as <c>queue-full</c>.</summary>
    public static string TypeFor(string slug) => "urn:actors:problem:" + slug;

    /// <summary>The slug of a rejection code.</summary>
    public static string Slug(RejectionCode code) => code switch
    {
        RejectionCode.UnknownQueue => "unknown-queue",
        RejectionCode.InvalidQueueName => "invalid-queue-name",
        RejectionCode.InvalidMessageType => "invalid-message-type",
        RejectionCode.UnknownMessageType => "unknown-message-type",
        RejectionCode.PayloadTooLarge => "payload-too-large",
        RejectionCode.QueueFull => "queue-full",
        RejectionCode.JournalUnavailable => "journal-unavailable",
        RejectionCode.ShuttingDown => "shutting-down",
        RejectionCode.InvalidHeaders => "invalid-headers",
        RejectionCode.IdempotencyKeyMismatch => "idempotency-key-mismatch",
        RejectionCode.IdempotencyKeyInProgress => "idempotency-key-in-progress",
        RejectionCode.IdempotencyKeyRequired => "idempotency-key-required",
        RejectionCode.InvalidIdempotencyKey => "invalid-idempotency-key",
        RejectionCode.InvalidTiming => "invalid-timing",
        RejectionCode.DelayTooLong => "delay-too-long",
        RejectionCode.TooManyWaiters => "too-many-waiters",
        RejectionCode.DeleteRefused => "delete-refused",
        _ => "error",
    };

    /// <summary>The HTTP status of a rejection code.</summary>
    public static int StatusFor(RejectionCode code) => code switch
    {
        RejectionCode.UnknownQueue => StatusCodes.Status404NotFound,
        RejectionCode.InvalidQueueName or RejectionCode.InvalidHeaders or RejectionCode.IdempotencyKeyRequired or RejectionCode.InvalidIdempotencyKey
            or RejectionCode.InvalidTiming or RejectionCode.DelayTooLong => StatusCodes.Status400BadRequest,
        RejectionCode.InvalidMessageType or RejectionCode.UnknownMessageType or RejectionCode.IdempotencyKeyMismatch => StatusCodes.Status422UnprocessableEntity,
        RejectionCode.IdempotencyKeyInProgress => StatusCodes.Status409Conflict,
        RejectionCode.PayloadTooLarge => StatusCodes.Status413PayloadTooLarge,
        RejectionCode.QueueFull => StatusCodes.Status429TooManyRequests,
        RejectionCode.DeleteRefused => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status503ServiceUnavailable,
    };

    /// <summary>A problem for a queue's refusal; 429, 503 and 409 (a request with the same idempotency key being written) carry <c>Retry-After</c>.</summary>
    public static IResult For(RejectionCode code, string detail)
    {
        var status = StatusFor(code);
        var problem = Create(status, Slug(code), Title(code), detail, code.ToString());
        return status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable || code == RejectionCode.IdempotencyKeyInProgress ? new RetryAfter(problem, 1) : problem;
    }

    /// <summary>A 400 for a request that is valid JSON but not a valid message.</summary>
    public static IResult BadRequest(string detail) => Create(StatusCodes.Status400BadRequest, "invalid-request", "Invalid request", detail);

    /// <summary>A problem result.</summary>
    public static IResult Create(int status, string slug, string title, string detail, string? code = null) =>
        Results.Problem(detail: detail, statusCode: status, title: title, type: TypeFor(slug),
            extensions: code is null ? null : new Dictionary<string, object?> { ["code"] = code });

    private static string Title(RejectionCode code) => code switch
    {
        RejectionCode.UnknownQueue => "Unknown queue",
        RejectionCode.InvalidQueueName => "Invalid queue name",
        RejectionCode.InvalidMessageType => "Invalid message type",
        RejectionCode.UnknownMessageType => "Message type not accepted",
        RejectionCode.PayloadTooLarge => "Payload too large",
        RejectionCode.QueueFull => "Queue full",
        RejectionCode.JournalUnavailable => "Journal unavailable",
        RejectionCode.ShuttingDown => "Shutting down",
        RejectionCode.InvalidHeaders => "Invalid headers",
        RejectionCode.IdempotencyKeyMismatch => "Idempotency key reused for a different request",
        RejectionCode.IdempotencyKeyInProgress => "Request with this idempotency key in progress",
        RejectionCode.IdempotencyKeyRequired => "Idempotency key required",
        RejectionCode.InvalidIdempotencyKey => "Invalid idempotency key",
        RejectionCode.InvalidTiming => "Invalid timing",
        RejectionCode.DelayTooLong => "Delay too long",
        RejectionCode.TooManyWaiters => "Too many waiters",
        RejectionCode.DeleteRefused => "Delete refused",
        _ => "Error",
    };

    /// <summary>Wraps a result and adds a <c>Retry-After</c> header.</summary>
    private sealed class RetryAfter(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
