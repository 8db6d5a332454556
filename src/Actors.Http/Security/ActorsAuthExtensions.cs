using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Actors.Http.Security;

/// <summary>
/// Wires authentication (API keys from <c>Actors:Auth:Keys</c>, optional JWT bearer) and the per-queue policies of
/// <see cref="ActorsPolicies"/> into an ASP.NET Core application.
/// </summary>
public static class ActorsAuthExtensions
{
    /// <summary>The default scheme: forwards a JWT (a bearer value with two dots) to JWT bearer, anything else to the API key scheme.</summary>
    public const string Scheme = "Actors";

    /// <summary>
    /// Registers the schemes, the policies, the 401/403 problems and the startup check that refuses to serve
    /// anonymous requests beyond loopback. Invalid keys or permissions fail the start with the offending entry named.
    /// </summary>
    public static IServiceCollection AddActorsAuth(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ActorsAuthOptions.Section);
        var auth = section.Get<ActorsAuthOptions>() ?? new ActorsAuthOptions();
        Validate(auth);
        services.AddOptions<ActorsAuthOptions>().Bind(section);

        var builder = services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "API key or JWT", policy => policy.ForwardDefaultSelector = context =>
                auth.JwtEnabled && IsJwt(context.Request) ? JwtBearerDefaults.AuthenticationScheme : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, options =>
            {
                options.Keys = auth.Keys;
                options.AllowAnonymous = auth.AllowAnonymous;
                options.OtherCredentials = auth.JwtEnabled;
            });
        if (auth.JwtEnabled) AddJwt(builder, auth.Jwt!);

        services.AddAuthorization(options =>
        {
            foreach (var (name, requirement) in ActorsPolicies.Requirements)
                options.AddPolicy(name, policy => policy.AddAuthenticationSchemes(Scheme).AddRequirements(requirement));
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, QueuePermissionHandler>());
        // After AddAuthorization, which registers the default result handler: the last registration wins.
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AuthorizationProblems>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ExposureCheck>());
        return services;
    }

    /// <summary>Adds authentication and authorization to the pipeline (after routing, before the endpoints).</summary>
    public static IApplicationBuilder UseActorsAuth(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseAuthentication().UseAuthorization();
    }

    /// <summary>
    /// Requires one of <see cref="ActorsPolicies"/>; a manage or admin policy also writes an audit record
    /// (see <see cref="Audit"/>) for every request it lets through.
    /// </summary>
    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, string policy) where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.RequireAuthorization(policy);
        if (ActorsPolicies.Requirements[policy].Kind is PermissionKind.Manage or PermissionKind.Admin) builder.AddEndpointFilter(Audit.Filter);
        return builder;
    }

    private static void AddJwt(AuthenticationBuilder builder, JwtAuthOptions jwt) => builder.AddJwtBearer(JwtBearerDefaults.AuthenticationScheme, options =>
    {
        options.Authority = jwt.Authority;
        options.Audience = jwt.Audience;
        options.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
        options.MapInboundClaims = false;
        options.TokenValidationParameters.NameClaimType = "sub";
        options.TokenValidationParameters.ValidateAudience = !string.IsNullOrWhiteSpace(jwt.Audience);
        options.Events = new JwtBearerEvents
        {
            // The token's permission claims become the same permission claims an API key carries.
            OnTokenValidated = context =>
            {
                if (context.Principal?.Identity is not ClaimsIdentity identity) return Task.CompletedTask;
                var values = jwt.PermissionClaims
                    .SelectMany(type => identity.FindAll(type))
                    .SelectMany(claim => claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    .Where(value => Permissions.TryParse(value, out _, out _, out _))
                    .Distinct(StringComparer.Ordinal)
                    .ToArray();
                foreach (var value in values) identity.AddClaim(new Claim(Permissions.ClaimType, value));
                return Task.CompletedTask;
            },
        };
    });

    private static bool IsJwt(HttpRequest request)
    {
        string? authorization = request.Headers.Authorization;
        return authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && authorization.AsSpan("Bearer ".Length).Count('.') == 2;
    }

    private static void Validate(ActorsAuthOptions auth)
    {
        var errors = new List<string>();
        foreach (var (name, key) in auth.Keys)
        {
            if (!ApiKeys.IsHash(key.Hash)) errors.Add($"Actors:Auth:Keys:{name}:Hash must be the lowercase hex SHA-256 of the key (64 characters; `Actors.Node keygen` prints it).");
            foreach (var permission in key.Permissions)
                if (!Permissions.TryParse(permission, out _, out _, out var error)) errors.Add($"Actors:Auth:Keys:{name}:Permissions: {error}");
        }
        if (errors.Count > 0) throw new OptionsValidationException(ActorsAuthOptions.Section, typeof(ActorsAuthOptions), errors);
    }
}
