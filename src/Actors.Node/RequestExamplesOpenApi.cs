using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Actors.Node;

/// <summary>
/// Request examples for the enqueue routes in the node's OpenAPI document: an ordering key with a priority and a
/// continuation, and a batch mixing keyed, prioritised and delayed messages.
/// </summary>
internal static class RequestExamplesOpenApi
{
    private static readonly Dictionary<string, (string Summary, string Json)> Examples = new(StringComparer.Ordinal)
    {
        ["Enqueue"] = ("A record change, ordered by its key, high priority, with a follow-up on success",
            """{"type":"sync","payload":{"record":17,"version":3},"key":"record-17","priority":7,"idempotencyKey":"record-17-v3","then":{"queue":"audit","type":"log","useResult":true}}"""),
        ["EnqueueBatch"] = ("Log lines keyed by service, one delayed",
            """[{"type":"log_line","payload":{"service":"api","text":"started"},"key":"api"},{"type":"log_line","payload":{"service":"db","text":"slow query"},"key":"db","priority":5},{"type":"report","payload":{"day":"2026-12-01"},"delay":"PT2H"}]"""),
    };

    /// <summary>Adds the examples to the enqueue operations' JSON request bodies.</summary>
    public static OpenApiOptions AddRequestExamples(this OpenApiOptions options) =>
        options.AddOperationTransformer((operation, _, _) =>
        {
            if (operation.OperationId is { } id && Examples.TryGetValue(id, out var example)
                && operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true && media is OpenApiMediaType json)
            {
                json.Examples ??= new Dictionary<string, IOpenApiExample>(StringComparer.Ordinal);
                json.Examples["example"] = new OpenApiExample { Summary = example.Summary, Value = JsonNode.Parse(example.Json) };
            }
            return Task.CompletedTask;
        });
}
