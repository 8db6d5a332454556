using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Actors.Cli;

/// <summary>
/// The node's HTTP API as the CLI uses it: JSON in and out, the API key as a bearer token, and every failure turned
/// into a <see cref="CliException"/> with the exit code of its class (problem details give the message).
/// </summary>
internal sealed class NodeApi(HttpClient http, Uri baseUri, string? apiKey)
{
    /// <summary>The node's base address (ends with a slash).</summary>
    public Uri BaseUri { get; } = baseUri;

    /// <summary>GET a JSON resource.</summary>
    public async Task<JsonNode> GetAsync(string path, CancellationToken cancellationToken) =>
        (await SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false)).Body ?? new JsonObject();

    /// <summary>Sends a request with an optional JSON body; the status and the parsed JSON answer (null when empty).</summary>
    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = Request(method, path);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await Call(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw Failure(response, text);
        try
        {
            return ((int)response.StatusCode, string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text));
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.Unavailable, $"{BaseUri} answered {(int)response.StatusCode} with a body that is not JSON: {e.Message}");
        }
    }

    /// <summary>GETs <paramref name="path"/> and copies its body into <paramref name="destination"/>; the bytes copied.</summary>
    public async Task<long> DownloadAsync(string path, Stream destination, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, path);
        using var response = await Call(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw Failure(response, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            var before = destination.CanSeek ? destination.Position : 0;
            await source.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
            return destination.CanSeek ? destination.Position - before : response.Content.Headers.ContentLength ?? -1;
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(BaseUri, path.TrimStart('/')));
        if (!string.IsNullOrEmpty(apiKey)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    private async Task<HttpResponseMessage> Call(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Unavailable, $"cannot reach the node at {BaseUri}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unavailable, $"the node at {BaseUri} did not answer {request.Method} {request.RequestUri?.AbsolutePath} in time");
        }
    }

    /// <summary>A failed answer as a CLI failure: the problem's detail (or title, or the raw body) and its stable type.</summary>
    private static CliException Failure(HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        string? detail = null, type = null;
        try
        {
            if (JsonNode.Parse(body) is JsonObject problem)
            {
                detail = (problem["detail"] ?? problem["title"])?.ToString();
                type = problem["type"]?.ToString();
            }
        }
        catch (JsonException)
        {
        }
        detail ??= string.IsNullOrWhiteSpace(body) ? response.ReasonPhrase ?? "no detail" : body.Trim();
        const string prefix = "urn:actors:problem:";
        var slug = type is not null && type.StartsWith(prefix, StringComparison.Ordinal) ? type[prefix.Length..] : type;
        if (status == 401 && slug is null) slug = "unauthenticated";
        // A 404 that is no problem of ours: the node has no such route (an older version, or a node without the api role).
        if (status == 404 && type?.StartsWith(prefix, StringComparison.Ordinal) != true)
            return new CliException(ExitCodes.NotFound, $"the node does not serve {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} (404): is it an older version, or without the api role?");
        var hint = status == 401 ? "; give the key with --api-key or ACTORS_API_KEY" : "";
        return new CliException(ExitCodes.ForStatus(status), $"{detail.TrimEnd('.', ' ')} ({status}{(slug is null ? "" : " " + slug)}){hint}");
    }
}
