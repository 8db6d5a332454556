using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Actors.Node;

/// <summary>
/// The requests the node makes to webhook receivers, as OpenAPI 3.1 <c>webhooks</c>: <c>messageWebhook</c> (one message
/// per POST) and <c>batchedWebhook</c> (a type declared <c>Batched</c>: one JSON array per POST, answered optionally with
/// an outcome per message), so a receiver can be written from the node's own document.
/// </summary>
internal static class WebhookOpenApi
{
    /// <summary>Adds the webhook descriptions to the document.</summary>
    public static OpenApiOptions AddWebhookDescriptions(this OpenApiOptions options) =>
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Webhooks ??= new Dictionary<string, IOpenApiPathItem>(StringComparer.Ordinal);
            document.Webhooks["messageWebhook"] = Post(
                "One message of a webhook type",
                "The message's payload as the body, with X-Actors-Queue, X-Actors-Message-Id, X-Actors-Attempt, Idempotency-Key and, with a Secret, X-Actors-Timestamp and X-Actors-Signature. "
                + "2xx completes it (the body, capped at MaxResponseBytes, is its result); 429 (Retry-After), 5xx and timeouts retry; 3xx and other 4xx dead-letter.",
                new OpenApiSchema { Description = "The message's payload, as it was enqueued." },
                new OpenApiSchema { Description = "Stored as the message's result." });
            document.Webhooks["batchedWebhook"] = Post(
                "A batch of messages of a webhook type declared Batched",
                "One object per message, with X-Actors-Queue, X-Actors-Batch-Size and, with a Secret, the signature of the whole body. "
                + "A non-2xx answer fails every message as it fails a single one. A 2xx answer completes every message unless its body is an array of outcomes; "
                + "a message the array leaves out fails.",
                new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Items = BatchItem(),
                    Examples = [JsonNode.Parse("""[{"id":41,"attempt":1,"type":"log_line","payload":{"service":"api","text":"started"},"headers":{"key":"api"}}]""")!],
                },
                new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    Description = "Optional: an outcome per message. Any other 2xx body completes every message of the batch.",
                    Items = Outcome(),
                    Examples = [JsonNode.Parse("""[{"id":41,"ok":true,"result":{"offset":1093}},{"id":42,"ok":false,"error":"index busy"}]""")!],
                });
            return Task.CompletedTask;
        });

    private static OpenApiSchema BatchItem() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string>(StringComparer.Ordinal) { "id", "attempt", "type", "payload", "headers" },
        Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
        {
            ["id"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Description = "The message id within its queue." },
            ["attempt"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "1 for the first delivery, then 2, 3, …" },
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The message type." },
            ["payload"] = new OpenApiSchema { Description = "The payload as JSON; a payload that is not JSON is {\"base64\": \"…\"}." },
            ["headers"] = new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String } },
        },
    };

    private static OpenApiSchema Outcome() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string>(StringComparer.Ordinal) { "id", "ok" },
        Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
        {
            ["id"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Description = "The message the outcome is for." },
            ["ok"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "true completes the message; false fails it (retried by the queue's policy)." },
            ["result"] = new OpenApiSchema { Description = "With ok: stored as the message's result." },
            ["error"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Without ok: why it failed." },
            ["deadLetter"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Without ok: dead-letter it instead of retrying." },
            ["retryAfter"] = new OpenApiSchema { Type = JsonSchemaType.Number, Description = "Without ok: retry after this many seconds (capped at the queue's Retry.MaxDelay)." },
        },
    };

    private static OpenApiPathItem Post(string summary, string description, OpenApiSchema request, OpenApiSchema response)
    {
        var operation = new OpenApiOperation
        {
            Summary = summary,
            Description = description,
            RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["application/json"] = new() { Schema = request } },
            },
            Responses = new OpenApiResponses
            {
                ["2XX"] = new OpenApiResponse
                {
                    Description = "Success, per the rules above.",
                    Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal) { ["application/json"] = new() { Schema = response } },
                },
            },
        };
        var item = new OpenApiPathItem();
        item.AddOperation(HttpMethod.Post, operation);
        return item;
    }
}
